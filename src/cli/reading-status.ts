import type { ApplyEvent } from '../engine/apply.js';

/**
 * While plan or check reads hosts on a terminal: one line on stderr, redrawn every second, that
 * says how many hosts are done and which ones it still waits for, and how long it has. An
 * unreachable host takes its whole connect timeout; without it the screen would stay blank. Nothing
 * on a pipe: there the report at the end is the output.
 */
export function readingStatus(hosts: string[]): { emit: (event: ApplyEvent) => void; stop: () => void } {
  if (!process.stderr.isTTY || hosts.length === 0) return { emit: () => {}, stop: () => {} };
  const started = Date.now();
  const pending = new Set(hosts);
  const doing = new Map<string, string>();
  const draw = () => {
    const waiting = [...pending];
    const named = waiting.map((h) => (doing.has(h) ? `${h} (${doing.get(h)!})` : h));
    const names = named.length > 3 ? `${named.slice(0, 3).join(', ')} and ${named.length - 3} more` : named.join(', ');
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stderr.write(
      `\r\u001b[Kreading ${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${hosts.length - pending.size} done; waiting for ${names}; ${seconds} s`,
    );
  };
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    emit: (event) => {
      if (event.type === 'finished') pending.delete(event.host);
      if (event.type === 'phase') doing.set(event.host, event.detail);
    },
    stop: () => {
      clearInterval(timer);
      process.stderr.write('\r\u001b[K');
    },
  };
}
