import type { ScriptStep } from '../model/plan.js';

/**
 * The scripts of several actions as one remote script, so an apply costs one round trip per batch
 * instead of one per step. The script is read by `sh -s` from stdin; each step runs in its own
 * subshell (its `set -e`, traps and `exit` stay its own) with its bytes from an embedded here-document
 * (or /dev/null: nothing may read the batch script itself). Markers on stdout say when each action
 * is done, so progress is still shown per action; markers on stderr say which action wrote what.
 */
export function batchScript(actions: ScriptStep[][], nonce: string): string {
  const lines: string[] = [];
  for (const [i, steps] of actions.entries()) {
    lines.push(`printf '\\n@@rc-${nonce} start ${i}\\n' >&2`);
    for (const [j, step] of steps.entries()) {
      const end = `RC-${nonce}-${i}-${j}`;
      if (step.stdinBase64 === undefined) lines.push(`(\n${step.script}\n) </dev/null`);
      else lines.push(`rc_input() {\nbase64 -d <<'${end}'\n${wrap(step.stdinBase64)}\n${end}\n}`, `rc_input | (\n${step.script}\n)`);
      lines.push(`rc=$?; if [ "$rc" -ne 0 ]; then printf '\\n@@rc-${nonce} fail ${i} %s\\n' "$rc"; exit "$rc"; fi`);
    }
    lines.push(`printf '\\n@@rc-${nonce} done ${i}\\n'`);
  }
  return `${lines.join('\n')}\n`;
}

/** base64 in 76-character lines: no line of the here-document can be taken for its end. */
function wrap(base64: string): string {
  return base64.match(/.{1,76}/g)?.join('\n') ?? '';
}

/** Reads a batch's stdout as it arrives: calls `done(i)` once per finished action, in order. */
export function markerReader(nonce: string, done: (index: number) => void): (chunk: Buffer) => void {
  const marker = new RegExp(`\\n@@rc-${nonce} done (\\d+)\\n`, 'g');
  let text = '';
  return (chunk) => {
    text += chunk.toString('latin1');
    let found: RegExpExecArray | null;
    let consumed = 0;
    while ((found = marker.exec(text))) {
      done(Number(found[1]));
      consumed = marker.lastIndex;
    }
    // Keep the tail: a marker may be split across chunks.
    text = text.slice(Math.max(consumed, text.length - 64));
    marker.lastIndex = 0;
  };
}

/** What one action of a batch printed, and how it failed, once the batch has ended. */
export function actionOutput(nonce: string, index: number, stdout: string, stderr: string): { code?: number; output: string } {
  const section = (text: string, start: RegExp, end: RegExp) => {
    const from = text.search(start);
    if (from < 0) return '';
    const rest = text.slice(from).replace(start, '');
    const to = rest.search(end);
    return to < 0 ? rest : rest.slice(0, to);
  };
  const err = section(stderr, new RegExp(`\\n@@rc-${nonce} start ${index}\\n`), new RegExp(`\\n@@rc-${nonce} start `));
  const failed = new RegExp(`\\n@@rc-${nonce} fail ${index} (\\d+)\\n`).exec(stdout);
  const previous = index === 0 ? /^/ : new RegExp(`\\n@@rc-${nonce} done ${index - 1}\\n`);
  const out = section(stdout, previous, new RegExp(`\\n@@rc-${nonce} (fail|done) `));
  return { code: failed ? Number(failed[1]) : undefined, output: failureOutput(out, err) };
}

/**
 * What a failed step printed, for people: the last lines of stdout and of stderr. Both, since tools
 * differ in where the reason goes (Prefect prints its error on stdout and its logs on stderr).
 */
export function failureOutput(stdout: string, stderr: string, keep = 15): string {
  const tail = (text: string) => {
    const lines = text.replace(/\r/g, '').trim().split('\n');
    const cut = lines.length - keep;
    return cut > 0 ? [`(${cut} earlier line${cut === 1 ? '' : 's'} not shown)`, ...lines.slice(cut)].join('\n') : lines.join('\n');
  };
  const out = stdout.trim() ? tail(stdout) : '';
  const err = stderr.trim() ? tail(stderr) : '';
  if (out && err) return `${out}\nstderr:\n${err}`;
  return out || err || 'no output';
}
