import { describe, expect, it } from 'vitest';
import { actionOutput, batchScript, failureOutput, markerReader } from '../../src/engine/batch.js';
import { LocalTransport } from '../../src/transport/local.js';

describe('batch scripts', () => {
  it('runs each step in its own subshell with its own stdin, marking each action done, stopping at the first failure', async () => {
    const nonce = 'abc123';
    const tricky = Buffer.from(`line\nRC-${nonce}-0-0\n'"$(x)\`\u0000\xff`, 'latin1');
    const actions = [
      [{ script: 'set -e\ncat > /dev/null; exit 0' }, { script: 'wc -c', stdinBase64: tricky.toString('base64') }],
      [{ script: 'echo out-b; echo err-b >&2; exit 7' }],
      [{ script: 'echo never' }],
    ];
    const done: number[] = [];
    const local = new LocalTransport('local');
    const result = await local.run(batchScript(actions, nonce), {
      scriptOnStdin: true,
      onStdout: markerReader(nonce, (i) => done.push(i)),
    });
    expect(result.code).toBe(7);
    expect(done).toEqual([0]);
    expect(result.stdout).toContain(`${tricky.length}\n`);
    expect(result.stdout).not.toContain('never');
    // Both streams: tools differ in where they print the reason (Prefect: stdout; its logs: stderr).
    expect(actionOutput(nonce, 1, result.stdout, result.stderr)).toEqual({ code: 7, output: 'out-b\nstderr:\nerr-b' });
  });

  it('finds markers split across chunks, once each', () => {
    const seen: number[] = [];
    const read = markerReader('n1', (i) => seen.push(i));
    const text = Buffer.from('x\n@@rc-n1 done 0\n\n@@rc-n1 done 1\nnoise\n@@rc-n1 done 2\n');
    for (let i = 0; i < text.length; i += 5) read(text.subarray(i, i + 5));
    expect(seen).toEqual([0, 1, 2]);
  });

  it('keeps the last lines of each stream of a failed step, saying how many were left out', () => {
    const logs = Array.from({ length: 40 }, (_, i) => `DEBUG log line ${i}`).join('\n');
    const shown = failureOutput('A work pool is required to deploy this flow.\n', logs, 15);
    expect(shown).toBe(
      `A work pool is required to deploy this flow.\nstderr:\n(25 earlier lines not shown)\n${Array.from({ length: 15 }, (_, i) => `DEBUG log line ${i + 25}`).join('\n')}`,
    );
    expect(failureOutput('', '')).toBe('no output');
    expect(failureOutput('only out\n', '')).toBe('only out');
  });
});
