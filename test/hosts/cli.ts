// `npm run testhost -- up NAME | down NAME | ls`: disposable Debian test hosts for people.
// `up` prints one JSON line with everything needed to reach the host once ssh answers.
import { bootHost, listHosts, stopHost } from './host.js';
import { RELEASES, type Release } from './image.js';

const usage = `usage: npm run testhost -- up NAME [--release ${Object.keys(RELEASES).join('|')}] | down NAME | ls`;

async function main([command, name, ...rest]: string[]): Promise<number> {
  switch (command) {
    case 'up': {
      if (!name) break;
      const release = rest[0] === '--release' ? rest[1] : rest.length === 0 ? 'bookworm' : undefined;
      if (!release || !(release in RELEASES)) break;
      const host = await bootHost(name, { keep: true, release: release as Release, log: (line) => console.error(line) });
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
  (error: Error) => {
    console.error(`testhost: ${error.message}`);
    process.exitCode = 1;
  },
);
