import { UsageError } from './usage-error.js';

/**
 * Asks on the terminal with echo off, as sudo and ssh do; never from a pipe, where the answer would
 * come from whatever feeds stdin. Ctrl-C ends the run.
 */
export async function askHidden(question: string, why: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) throw new UsageError(`${why} needs a terminal to ask on (stdin is not one)`);
  // Echo off before the question shows: an answer typed the moment it appears must not be echoed.
  input.setRawMode(true);
  process.stderr.write(question);
  input.resume();
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0003') {
          finish();
          if (ch === '\u0003') reject(new UsageError('interrupted'));
          else resolve(answer);
          return;
        }
        answer = ch === '\u007f' || ch === '\b' ? answer.slice(0, -1) : answer + ch;
      }
    };
    input.on('data', onData);
  });
}

/**
 * Asks for a line on the terminal (the answer shows as it is typed); undefined when the person
 * presses Ctrl-C or ends the input, which is never a yes.
 */
export async function askLine(question: string): Promise<string | undefined> {
  const { createInterface } = await import('node:readline/promises');
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  const stop = new AbortController();
  lines.on('SIGINT', () => stop.abort());
  lines.on('close', () => stop.abort());
  try {
    return (await lines.question(question, { signal: stop.signal })).trim();
  } catch {
    process.stderr.write('\n');
    return undefined;
  } finally {
    lines.close();
  }
}
