import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../src/config/load.js';
import { SpecError } from '../../src/model/diagnostic.js';

/** A spec with one secret from `source`, used in a private file. */
function spec(source: string): { dir: string; load: (mode?: 'resolve' | 'placeholder') => ReturnType<typeof loadSpec> } {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-secret-'));
  writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  here:\n    connection: local\n    address: 127.0.0.1\n');
  writeFileSync(
    join(dir, 'setup.yaml'),
    `secrets:\n  api_key: ${source}\nresources:\n  - kind: file\n    path: /tmp/never-written\n    mode: "0600"\n    content: "{{ api_key }}"\n`,
  );
  return { dir, load: (mode = 'resolve') => loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'), mode) };
}

describe('a secret from a command on the control machine', () => {
  it("takes the command's output, one trailing newline dropped, run in setup.yaml's directory", async () => {
    const { dir, load } = spec('{ command: "cat key.txt" }');
    writeFileSync(join(dir, 'key.txt'), 'sk-from-a-command\n');
    expect((await load()).secrets).toEqual([{ name: 'api_key', value: 'sk-from-a-command' }]);
  });

  it('says where and why when the command fails, with its first line of stderr and never its output', async () => {
    const { dir, load } = spec('{ command: "cat key.txt; echo vault is sealed >&2; exit 3" }');
    writeFileSync(join(dir, 'key.txt'), 'printed-value\n');
    const error = await load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    const text = (error as SpecError).message;
    expect(text).toMatch(/setup\.yaml:2:\d+: secret 'api_key': command `.*` exited 3: vault is sealed/);
    expect(text).not.toContain('printed-value');
  });

  it('is not run by validate (placeholders), which checks a spec without the secrets', async () => {
    const { dir, load } = spec('{ command: "touch ran" }');
    await load('placeholder');
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('takes exactly one source', async () => {
    const error = await spec('{ command: "true", env: X }')
      .load()
      .catch((e: unknown) => e);
    expect((error as SpecError).message).toContain('give exactly one of env, file and command');
  });
});
