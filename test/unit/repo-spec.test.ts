import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Resource } from '../../src/model/generated/setup.js';
import { loadSpec } from '../../src/config/load.js';
import { readSchema } from '../../src/config/schema-validator.js';

// The seed document the project started from; the repo's spec must reproduce it exactly.
const seed = readFileSync('test/fixtures/seed/prefect-setup.md', 'utf8');

function seedUnit(path: string): string {
  const block = seed.split(`**Service file**: \`${path}\``)[1]!;
  return block.split('```ini\n')[1]!.split('```')[0]!;
}

async function repoResources(): Promise<Resource[]> {
  const spec = await loadSpec('hosts.yaml', 'setup.yaml');
  expect(spec.hosts.map((h) => h.target.name)).toEqual(['prefect-host']);
  return spec.hosts[0]!.resources.map((r) => r.spec);
}

const only = <K extends Resource['kind']>(resources: Resource[], kind: K) =>
  resources.filter((r): r is Extract<Resource, { kind: K }> => r.kind === kind);

describe("the repo's hosts.yaml and setup.yaml reproduce the seed", () => {
  it('renders both unit files byte for byte', async () => {
    const units = only(await repoResources(), 'systemd_service');
    for (const name of ['prefect-server.service', 'prefect-worker.service']) {
      const unit = units.find((u) => u.unit === name)!;
      expect(unit.content).toBe(seedUnit(`/etc/systemd/system/${name}`));
    }
  });

  it('declares the alias, profile, venv, pool, deployments and manifests directory', async () => {
    const resources = await repoResources();
    const alias = /^alias prefect-cli=.*$/m.exec(seed)![0];
    expect(only(resources, 'line')).toEqual([expect.objectContaining({ path: '/home/daniel/.bashrc', line: alias })]);
    expect(only(resources, 'prefect_profile')).toEqual([
      expect.objectContaining({ profile: 'selfhost', settings: { PREFECT_API_URL: 'http://100.78.180.34:4200/api' } }),
    ]);
    const [venv] = only(resources, 'python_venv');
    expect(venv!.path).toBe('/home/daniel/projects/projections-v2/.venv');
    expect(venv!.packages.some((p) => /^prefect==3\.\d+\.\d+$/.test(p))).toBe(true);
    expect(only(resources, 'prefect_work_pool')).toEqual([expect.objectContaining({ pool: 'projections-local', type: 'process' })]);
    expect(only(resources, 'prefect_deployments')[0]).toMatchObject({ project_dir: '/home/daniel/projects/projections-v2', names: 'all' });
    expect(only(resources, 'directory').map((d) => d.path)).toContain('/home/daniel/projections-data/manifests');
  });

  it('takes the server address from prefect_host, which defaults to the host address', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/reconcile-inventory-');
    writeFileSync(`${dir}/hosts.yaml`, 'hosts:\n  box:\n    address: 192.0.2.7\n');
    const spec = await loadSpec(`${dir}/hosts.yaml`, 'setup.yaml');
    const server = only(
      spec.hosts[0]!.resources.map((r) => r.spec),
      'systemd_service',
    )[0]!;
    expect(server.content).toContain('--host 192.0.2.7 --port 4200');
    expect(server.content).not.toContain('100.78.180.34');
  });

  it('starts both files with a yaml-language-server schema line', () => {
    expect(readFileSync('hosts.yaml', 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/schemas\/hosts\.schema\.json\n/);
    expect(readFileSync('setup.yaml', 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/schemas\/setup\.schema\.json\n/);
  });
});

describe('schemas', () => {
  it('describe every property', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => walk(n, `${path}/${i}`));
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      for (const [key, child] of Object.entries((schema.properties as object | undefined) ?? {})) {
        const c = child as Record<string, unknown>;
        if (!c.description && !c.$ref) undescribed.push(`${path}/properties/${key}`);
      }
      for (const [key, child] of Object.entries(schema)) walk(child, `${path}/${key}`);
    };
    walk(readSchema('hosts'), 'hosts');
    walk(readSchema('setup'), 'setup');
    expect(undescribed).toEqual([]);
  });

  it('match the generated TypeScript types and validators (npm run gen:types)', () => {
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-types.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
    expect(() => execFileSync(process.execPath, ['scripts/gen-validators.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
