// `npm run testhost -- up NAME | down NAME | ls`: disposable Debian test hosts for people.
// `up` prints one JSON line with everything needed to reach the host once ssh answers.
import { bootHost, listHosts, stopHost } from './host.js';
import { RELEASES, type Release } from './image.js';

const usage = `usage: npm run testhost -- up NAME [--release ${Object.keys(RELEASES).join('|')}] [--behind OTHER] | down NAME | ls`;

/** `--flag value` pairs; undefined when anything else is there. */
function flags(rest: string[]): Record<string, string> | undefined {
  const found: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i]!, rest[i + 1]];
    if (!['--release', '--behind'].includes(flag) || value === undefined) return undefined;
    found[flag.slice(2)] = value;
  }
  return found;
}

async function main([command, name, ...rest]: string[]): Promise<number> {
  switch (command) {
    case 'up': {
      const given = flags(rest);
      const release = given?.release ?? 'bookworm';
      if (!name || !given || !(release in RELEASES)) break;
      const host = await bootHost(name, {
        keep: true,
        release: release as Release,
        behind: given.behind,
        log: (line) => console.error(line),
      });
      console.log(JSON.stringify(host));
      return 0;
    }
    case 'down':
      if (!name) break;
      await stopHost(name);
      return 0;
    case 'ls':
      for (const host of await listHosts()) console.log(JSON.stringify(host));
      return 0;
  }
  console.error(usage);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`testhost: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
