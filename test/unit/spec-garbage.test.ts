import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/model/diagnostic.js';
import { loadSpec } from '../../src/config/load.js';

const work = mkdtempSync(join(tmpdir(), 'reconcile-garbage-'));
const repoSetup = readFileSync('setup.yaml', 'utf8');

/** Runs the built CLI (npm test builds first) as a user would. */
function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/reconcile.js', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+\(|node:internal|TypeError|ReferenceError/);

describe('garbage input: a clear message and exit 1, never a stack trace', () => {
  const cases: Record<string, () => string> = {
    'an empty file': () => write('empty.yaml', ''),
    'only a comment': () => write('comment.yaml', '# nothing here\n'),
    'binary garbage': () => write('binary.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 0xfe])),
    'invalid UTF-8': () => write('latin1.yaml', Buffer.from('resources: caf\xe9\n', 'latin1')),
    'a directory': () => {
      mkdirSync(join(work, 'adir'), { recursive: true });
      return join(work, 'adir');
    },
    'a missing file': () => join(work, 'does-not-exist.yaml'),
    'a 50 MB file': () => {
      const path = join(work, 'huge.yaml');
      const fd = openSync(path, 'w');
      ftruncateSync(fd, 50 * 1024 * 1024);
      closeSync(fd);
      return path;
    },
    'a scalar document': () => write('scalar.yaml', 'just a string\n'),
    'a list document': () => write('list.yaml', '- a\n- b\n'),
  };

  it.each(Object.entries(cases))('%s', (_name, make) => {
    const path = make();
    const run = cli('validate', '-f', path);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(path);
    noStackTrace(run.stderr);
  });

  it('accepts a byte-order mark and CRLF line ends', () => {
    const path = write('bom-crlf.yaml', `\uFEFF${repoSetup.replace(/\n/g, '\r\n')}`);
    const run = cli('validate', '-i', 'hosts.yaml', '-f', path);
    // The repo's hosts.yaml names ~/.ssh/id_ed25519, which this machine may not have: a warning, no more.
    expect(run.stderr.split('\n').filter((line) => line !== '' && !line.includes(': warning: '))).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('exits 1 with usage help for an unknown option or command', () => {
    for (const args of [['--frobnicate'], ['frobnicate'], ['--concurrency', 'lots', 'validate']]) {
      const run = cli(...args);
      expect(run.code).toBe(1);
      noStackTrace(run.stderr);
    }
  });
});

describe('arbitrary text never escapes as an exception', () => {
  beforeAll(() => mkdirSync(join(work, 'fuzz'), { recursive: true }));

  it('loadSpec either succeeds or reports located problems', async () => {
    const yamlish = fc.stringMatching(/^[\w\s:\-[\]{}'"&*!|>%@`#,.?/\\]{0,200}$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 200 })), async (text) => {
        const path = write('fuzz/case.yaml', text);
        try {
          await loadSpec('hosts.yaml', path);
        } catch (error) {
          expect(error).toBeInstanceOf(SpecError);
          for (const d of (error as SpecError).diagnostics) expect(d.file).toBe(path);
        }
      }),
      { numRuns: 300 },
    );
  });
});

function write(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}
