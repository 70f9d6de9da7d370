import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../src/config/load.js';

const cli = join(process.cwd(), 'bin/reconcile.js');

/** Every path and user the starter's resources name, as the host gets them. */
async function placesOf(dir: string): Promise<string> {
  const spec = await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'), 'placeholder');
  return spec.hosts[0]!.resources.map((r) => JSON.stringify(r.spec)).join('\n');
}

function init(user: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-starter-'));
  const run = spawnSync(process.execPath, [cli, 'init', '--address', '10.0.0.5', '--user', user, dir], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return dir;
}

describe("init's setup: every path follows its variables", () => {
  it('is right for root: home is /root, not /home/root', async () => {
    const places = await placesOf(init('root'));
    for (const expected of [
      '/root/.bashrc',
      '/root/projections-data/manifests',
      '/root/.prefect/prefect.db',
      'User=root',
      'WorkingDirectory=/root/projects/projections-v2',
      'ExecStart=/root/projects/projections-v2/.venv/bin/prefect server',
    ]) {
      expect(places).toContain(expected);
    }
    expect(places).not.toContain('/home/');
  });

  it('moves the units, alias, directories, venv and upgrade paths with project_dir, user and home', async () => {
    const dir = init('alice');
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    const moved = setup
      .replace('  user: alice ', '  user: bob ')
      .replace('  home: /home/alice ', '  home: /srv/bob ')
      .replace('project_dir: "{{ home }}/projects/projections-v2"', 'project_dir: /opt/flows');
    expect(moved).not.toBe(setup);
    writeFileSync(join(dir, 'setup.yaml'), moved);
    const places = await placesOf(dir);
    for (const expected of [
      '"path":"/srv/bob/.bashrc"',
      '/srv/bob/projections-data/manifests',
      '/srv/bob/.prefect/prefect.db',
      'User=bob',
      'WorkingDirectory=/opt/flows',
      'ExecStart=/opt/flows/.venv/bin/prefect worker',
      '"path":"/opt/flows/.venv"',
      '"project_dir":"/opt/flows"',
      'source /opt/flows/.venv/bin/activate',
    ]) {
      expect(places).toContain(expected);
    }
    expect(places).not.toMatch(/alice|projections-v2/);
  });

  it('restarts the server and the worker when the profile changes', async () => {
    const spec = await loadSpec('hosts.yaml', 'setup.yaml', 'placeholder');
    const profile = spec.hosts[0]!.resources.find((r) => r.spec.kind === 'prefect_profile')!;
    expect(profile.spec).toMatchObject({ notifies: ['prefect-server.service', 'prefect-worker.service'] });
  });
});

describe('template mistakes are found at validate, with the place and the fix', () => {
  const validate = (setup: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-templates-'));
    writeFileSync(join(dir, 'hosts.yaml'), readFileSync('hosts.yaml'));
    writeFileSync(join(dir, 'setup.yaml'), setup);
    return spawnSync(process.execPath, [cli, 'validate'], { cwd: dir, encoding: 'utf8' });
  };
  const repo = readFileSync('setup.yaml', 'utf8');

  it('an unclosed {{', () => {
    const run = validate(repo.replace('path: "{{ project_dir }}/.venv"', 'path: "{{ project_dir }/.venv"'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^setup\.yaml:\d+:\d+: '\{\{ project_dir \}\/\.venv' opens \{\{ and never closes it; write \{\{ name \}\}/m);
  });

  it('an unquoted {{ name }}, which YAML reads as a mapping: said so with the fix, and no Node warning', () => {
    const run = validate(repo.replace('    owner: "{{ user }}"\n    packages:', '    owner: {{ user }}\n    packages:'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^setup\.yaml:\d+:12: YAML read this \{\{ … \}\} as a mapping, not text: a value that starts with \{\{ must be quoted, e\.g\. owner: "\{\{ user \}\}"$/m,
    );
    expect(run.stderr).not.toMatch(/warning|mapAsMap/i);
  });

  it('variables that use each other in a circle', () => {
    const run = validate(repo.replace('  home: /home/daniel ', '  home: "{{ project_dir }}" '));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('variables refer to each other in a circle: home -> project_dir -> home');
  });
});
