import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcileWithEnv, workspace, type CliResult } from './helpers.js';

/** Values no output may contain; hostile characters so that quoting and masking are both tested. */
const firstKey = `sk-${randomBytes(12).toString('hex')}`;
const secondKey = `sk-${randomBytes(12).toString('hex')}`;
const dbPassword = `p@ss'"$(id)\`w ${randomBytes(6).toString('hex')}`;

function envFile(key: string): string {
  return `API_URL=http://127.0.0.1:4200/api\nAPI_KEY=${key}\nDB_PASSWORD=${dbPassword}\n`;
}

function setup(extra = ''): string {
  return `secrets:
  api_key: { env: RC_TEST_API_KEY }
  db_password: { file: db-password.txt }
resources:
  - kind: directory
    path: /srv/secret-app
    mode: "0755"
  - kind: file
    path: /srv/secret-app/app.env
    mode: "0600"
    owner: daniel
    content: |
      API_URL=http://127.0.0.1:4200/api
      API_KEY={{ api_key }}
      DB_PASSWORD={{ db_password }}
  - kind: prefect_profile
    profile: selfhost
    user: daniel
    settings:
      PREFECT_API_KEY: "{{ api_key }}"
${extra}`;
}

/** Every file under a directory, as text (run records, metrics, saved plans), but the secret's own source. */
function allFiles(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name !== 'db-password.txt')
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path, 'latin1'))
    .join('\n');
}

describe('secrets: read on the control machine, never shown or stored, files private before they hold them', () => {
  const hosts = useTestHosts(1, 'se');
  let host: TestHost;
  let dir: string;
  const outputs: CliResult[] = [];
  let key = firstKey;
  const run = async (...args: string[]) => {
    const result = await reconcileWithEnv({ RC_TEST_API_KEY: key }, dir, ...args, '--state-dir', join(dir, 'state'));
    outputs.push(result);
    return result;
  };

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
    writeFileSync(join(dir, 'setup.yaml'), setup());
    writeFileSync(join(dir, 'db-password.txt'), `${dbPassword}\n`, { mode: 0o600 });
  });

  it('validates without the secrets, and refuses to run without them, naming where they come from', async () => {
    const withoutEnv = { RC_TEST_API_KEY: '' };
    expect((await reconcileWithEnv(withoutEnv, dir, 'validate')).code).toBe(0);
    const missing = await reconcileWithEnv({}, dir, 'plan', '--state-dir', join(dir, 'state'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("setup.yaml:2:19: secret 'api_key': environment variable RC_TEST_API_KEY is not set");
  });

  it('plans, saves, applies and checks with every secret masked, the file private from its first byte', async () => {
    const plan = await run('plan');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/\+API_KEY=\[secret:api_key #[0-9a-f]{8}\]/);
    expect(plan.stdout).toMatch(
      /PREFECT_API_KEY: \(none\) -> \[secret:api_key #[0-9a-f]{8}\]|PREFECT_API_KEY.*\[secret:api_key #[0-9a-f]{8}\]/,
    );
    expect((await run('plan', '--json')).code).toBe(2);
    expect((await run('plan', '-o', 'saved.json')).code).toBe(2);
    const applied = await run('apply', 'saved.json');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await run('check', '--json', '--metrics-file', join(dir, 'state', 'metrics.prom'))).code).toBe(0);
    expect((await ssh(host, 'sudo -n cat /srv/secret-app/app.env')).stdout).toBe(envFile(firstKey));
    expect((await ssh(host, 'sudo -n stat -c "%U %a" /srv/secret-app/app.env')).stdout).toBe('daniel 600\n');
    expect((await ssh(host, 'cat ~/.prefect/profiles.toml')).stdout).toContain(`PREFECT_API_KEY = "${firstKey}"`);
  }, 60_000);

  it('shows a rotated secret as a changed hash, with the old value on the host masked too', async () => {
    key = secondKey;
    const plan = await run('plan');
    expect(plan.code).toBe(2);
    const hashes = [...plan.stdout.matchAll(/([-+])API_KEY=\[secret:api_key #([0-9a-f]{8})\]/g)].map((m) => `${m[1]}${m[2]}`);
    expect(hashes).toHaveLength(2);
    expect(hashes[0]!.slice(1)).not.toBe(hashes[1]!.slice(1));
    // A plan saved before the rotation no longer matches what the spec asks for, and is refused.
    const stale = await run('apply', 'saved.json');
    expect(stale.code).toBe(1);
    expect(stale.stdout + stale.stderr).toMatch(/saved plan (is stale|differs)/);
    expect((await run('apply')).code).toBe(0);
    expect((await ssh(host, 'sudo -n cat /srv/secret-app/app.env')).stdout).toBe(envFile(secondKey));
    expect((await run('history')).code).toBe(0);
  }, 60_000);

  it('masks secrets in failures too: a validator that prints the new content, and a host error', async () => {
    key = `${secondKey}-3`;
    writeFileSync(
      join(dir, 'setup.yaml'),
      setup().replace('    mode: "0600"\n    owner: daniel\n', '    mode: "0600"\n    owner: daniel\n    validate: "cat %s; exit 3"\n'),
    );
    const failed = await run('apply');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('validation of the new content failed');
    expect(failed.stdout).toMatch(/API_KEY=\[secret:api_key #[0-9a-f]{8}\]/);
    expect((await ssh(host, 'sudo -n cat /srv/secret-app/app.env')).stdout).toBe(envFile(secondKey));
    const shown = await run('history', 'show', 'latest');
    expect(shown.stdout).toContain('validation of the new content failed');
  }, 60_000);

  it('refuses a secret in a file every user could read, pointing at the mode', async () => {
    writeFileSync(join(dir, 'setup.yaml'), setup().replace('    mode: "0600"\n    owner: daniel', '    mode: "0644"\n    owner: daniel'));
    const refused = await run('plan');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /setup\.yaml:\d+:11: secret '(api_key|db_password)' in file:\/srv\/secret-app\/app\.env: mode 0644 lets every user on the host read it; set mode: "0600"/,
    );
  });

  it('never printed or stored any secret value: every output, run record, metrics and saved plan grepped', () => {
    const everything = [...outputs.map((o) => o.stdout + o.stderr), allFiles(dir)].join('\n');
    const forms = [firstKey, secondKey, `${secondKey}-3`, dbPassword].flatMap((value) => [
      value,
      Buffer.from(value).toString('base64'),
      JSON.stringify(value).slice(1, -1),
    ]);
    forms.push(Buffer.from(envFile(firstKey)).toString('base64'), Buffer.from(envFile(secondKey)).toString('base64'));
    for (const form of forms) expect(everything.includes(form), `found ${form}`).toBe(false);
    console.log(
      `secret-leak test: ${outputs.length} runs, ${everything.length} bytes of output and state searched for ${forms.length} forms of 4 secret values`,
    );
  });
});
