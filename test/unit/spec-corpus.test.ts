import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, SpecError } from '../../src/model/diagnostic.js';
import { loadSpec } from '../../src/config/load.js';

const dir = 'test/fixtures/broken';

/** Each broken file, the exact place of its (first) problem, and what the message must say. */
const corpus: [file: string, at: string, fragment: string][] = [
  ['setup-yaml-syntax.yaml', '4:1', 'Missing closing "quote'],
  ['setup-duplicate-key.yaml', '5:5', 'Map keys must be unique'],
  ['setup-tab-indent.yaml', '3:1', 'Tabs are not allowed as indentation (indent with spaces)'],
  ['setup-unknown-key-typo.yaml', '4:5', "unknown key 'mdoe' (did you mean 'mode'?)"],
  ['setup-unknown-top-level-key.yaml', '1:1', "missing required key 'resources'"],
  ['setup-resources-not-a-list.yaml', '2:3', 'resources: must be a list, not a mapping'],
  ['setup-missing-required.yaml', '2:5', "resources[0]: missing required key 'path'"],
  ['setup-bad-enum.yaml', '5:12', `state: must be "running" or "stopped", not "runing" (did you mean 'running'?)`],
  ['setup-unknown-kind.yaml', '4:11', "unknown resource kind 'fille' (did you mean 'file'?)"],
  ['setup-kind-not-string.yaml', '2:11', 'kind must be a string naming a resource type'],
  ['setup-mode-unquoted.yaml', '5:11', 'a mode must be a quoted string like "0644"'],
  ['setup-mode-bad-digits.yaml', '5:11', 'a mode is three or four octal digits'],
  ['setup-relative-path.yaml', '3:11', "must be an absolute path (starting with '/')"],
  ['setup-dotdot-path.yaml', '3:11', "without '..' segments"],
  ['setup-undefined-variable.yaml', '5:11', "undefined variable 'projet_dir' (did you mean 'project_dir'?)"],
  ['setup-malformed-reference.yaml', '4:14', "'{{ host name }}' is not a variable reference"],
  ['setup-duplicate-resource.yaml', '4:5', "duplicate resource 'directory:/srv/data' (first declared at line 2)"],
  [
    'setup-after-undefined-service.yaml',
    '8:13',
    "'prefect-sever.service' is not a systemd_service declared in this file (did you mean 'prefect-server.service'?)",
  ],
  ['setup-notifies-undefined.yaml', '6:9', "'app.service' is not a systemd_service declared in this file"],
  ['setup-cyclic-after.yaml', '2:5', 'ordering cycle: systemd_service:a.service -> systemd_service:b.service -> systemd_service:a.service'],
  ['setup-content-and-source.yaml', '2:5', 'a file needs exactly one of content and source'],
  ['setup-no-content.yaml', '2:5', 'a file needs exactly one of content and source'],
  ['setup-bad-unit-name.yaml', '3:11', 'a unit name is letters, digits'],
  ['setup-bad-regex.yaml', '5:12', 'match: not a valid regular expression'],
  ['setup-line-with-newline.yaml', '4:11', 'a line cannot contain a line break'],
  ['setup-unpinned-package.yaml', '6:9', 'packages[1]: a package is pinned to one version'],
  ['setup-reserved-pool-name.yaml', '3:11', "may not start with 'prefect'"],
  [
    'setup-deployment-names-form.yaml',
    '7:12',
    'names: must be the word "all" (every deployment in the file) or a list of deployment names',
  ],
  ['setup-validate-without-placeholder.yaml', '5:15', 'the validate command must contain %s'],
  ['setup-alias-bomb.yaml', '2:8', 'aliases may expand at most 100 times'],
  ['setup-empty-resources.yaml', '3:12', 'resources: must have at least 1 entry'],
  ['setup-profile-alias-twice.yaml', '7:27', 'PREFECT_UI_API_URL and PREFECT_SERVER_UI_API_URL are one Prefect setting'],
  ['setup-two-documents.yaml', '4:1', 'a spec file holds one document'],
  ['setup-bad-variable-name.yaml', '2:3', "'my-var': a variable name is letters, digits and '_'"],
  ['setup-path-relative-after-interpolation.yaml', '5:11', "must be an absolute path (starting with '/')"],
  ['setup-shell-metacharacters-in-owner.yaml', '4:12', 'owner: a user or group name is lower-case letters'],
  ['setup-profile-setting-lowercase.yaml', '6:7', "'prefect_api_url': a Prefect setting is upper case"],
  ['hosts-missing-address.yaml', '3:5', "hosts.web: missing required key 'address'"],
  ['hosts-bad-port.yaml', '4:11', 'hosts.web.port: must be <= 65535'],
  ['hosts-unknown-key-in-defaults.yaml', '2:3', "unknown key 'becom' (did you mean 'become'?)"],
  ['hosts-bad-connection.yaml', '4:17', 'connection: must be "ssh" or "local", not "telnet"'],
  ['hosts-no-hosts.yaml', '3:8', 'hosts: must have at least 1 entry'],
  ['hosts-become-secret-undeclared.yaml', '5:29', "'sudo_pw' is not a secret declared in setup.yaml's secrets"],
  ['hosts-jump-with-shell.yaml', '4:11', 'a jump host is a name from jump_hosts or hosts, or [user@]host[:port]'],
  ['hosts-address-with-shell.yaml', '3:14', 'with no spaces or shell characters'],
  ['hosts-bad-user.yaml', '4:11', 'a user name is lower-case letters'],
  ['hosts-undefined-variable-in-vars.yaml', '5:21', "undefined variable 'adress' (did you mean 'address'?)"],
  ['hosts-hosts-is-a-list.yaml', '2:3', 'hosts: must be a mapping, not a list'],
  // Hostile input: each refused, located, before anything is sent anywhere.
  ['setup-python-object-tag.yaml', '3:11', 'Unresolved tag: tag:yaml.org,2002:python/object:os.system (reconcile knows no such tag)'],
  ['setup-unknown-tag.yaml', '4:14', 'Unresolved tag: !vault'],
  ['setup-unit-name-traversal.yaml', '3:11', 'unit: a unit name is letters'],
  ['setup-health-file-url.yaml', '6:12', 'health.url: a health URL starts with http:// or https://'],
  ['setup-api-url-javascript.yaml', '5:14', 'api_url: the API URL starts with http://'],
  ['setup-prefect-file-path.yaml', '4:19', 'prefect_file is a file name inside project_dir'],
  ['setup-profile-name-space.yaml', '3:14', "profile: a profile name is letters, digits, '_' and '-'"],
  ['setup-negative-limit.yaml', '6:24', 'concurrency_limit: must be >= 0'],
  ['setup-group-metacharacters.yaml', '4:12', 'group: a user or group name is lower-case letters'],
  ['setup-mode-setuid.yaml', '5:11', 'mode: a mode is three or four octal digits'],
  ['setup-var-is-mapping.yaml', '3:5', 'vars.dir: must be a string or a number or a boolean (true or false), not a mapping'],
  ['setup-line-with-carriage-return.yaml', '4:11', 'line: a line cannot contain a line break'],
  ['setup-path-newline.yaml', '3:11', 'path: must be an absolute path'],
  [
    'hosts-address-newline.yaml',
    '3:14',
    'address: an address is a host name, an IPv4 or an IPv6 address, with no spaces or shell characters',
  ],
  ['hosts-empty-identity.yaml', '4:20', 'identity_file: must not be empty'],
  ['hosts-duplicate-host.yaml', '4:3', 'Map keys must be unique'],
  ['hosts-host-name-shell.yaml', '2:3', "'web;reboot': a host name is letters"],
  ['hosts-missing-ssh-config.yaml', '4:17', 'cannot read ssh_config /nonexistent/ssh_config: ENOENT'],
  // Secrets: where they come from, and where they may not go.
  ['setup-secret-env-and-file.yaml', '2:10', 'secrets.token: give exactly one of env, file and command'],
  ['setup-secret-clashes-with-variable.yaml', '4:10', "'token' is both a variable and a secret"],
  ['setup-secret-in-unit.yaml', '6:14', "secret 'token' in systemd_service:app.service: unit files are readable by every user"],
  ['setup-secret-missing-file.yaml', '2:18', "secret 'token': cannot read"],
  ['setup-enabled-without-install.yaml', '7:14', 'a unit without an [Install] section cannot be enabled'],
  [
    'setup-secret-in-line.yaml',
    '6:11',
    "secret 'token' in line:/home/daniel/.bashrc:export TOKEN=[secret:token]: a line leaves an existing file's mode as it is",
  ],
  ['setup-secret-bad-env-name.yaml', '2:17', 'an environment variable name is letters'],
  // Refused as Prefect would refuse them, before anything reaches the server.
  ['setup-variable-name-upper.yaml', '3:15', "variable: a Prefect variable name is lower-case letters, digits, '_' and '-'"],
  ['setup-variable-too-long.yaml', '4:12', 'the value is over 5000 characters as JSON, which Prefect refuses'],
];

async function problemsOf(file: string): Promise<string[]> {
  const path = `${dir}/${file}`;
  const [inventory, setup] = file.startsWith('hosts-') ? [path, 'setup.yaml'] : ['hosts.yaml', path];
  try {
    await loadSpec(inventory, setup);
  } catch (error) {
    if (error instanceof SpecError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return [];
}

describe('broken spec corpus', () => {
  it('covers every file in the corpus, and at least 60', () => {
    expect(corpus.map(([f]) => f).sort()).toEqual(readdirSync(dir).sort());
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    console.log(`corpus: ${corpus.length} broken or hostile spec files, each checked for its exact FILE:LINE:COL and message`);
  });

  it.each(corpus)('%s: %s', async (file, at, fragment) => {
    const problems = await problemsOf(file);
    const place = `${dir}/${file}:${at}: `;
    expect(problems[0]?.slice(0, place.length)).toBe(place);
    expect(problems[0]).toContain(fragment);
  });

  it('reports every problem of a file, in the order they appear', async () => {
    const problems = await problemsOf('setup-unknown-top-level-key.yaml');
    expect(problems).toEqual([
      `${dir}/setup-unknown-top-level-key.yaml:1:1: missing required key 'resources'`,
      `${dir}/setup-unknown-top-level-key.yaml:3:1: unknown key 'resurces' (did you mean 'resources'?)`,
    ]);
  });
});
