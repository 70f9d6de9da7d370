// `npm run demo`: the README's first command. Boots a disposable test host, writes an inventory for
// it, and runs the main job with the repo's unmodified setup.yaml: dry-run, apply, drift check.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootHost, stopHost } from '../test/hosts/host.js';

const host = await bootHost('demo', { log: (line) => console.log(`[demo] ${line}`) });
const dir = mkdtempSync(join(tmpdir(), 'reconcile-demo-'));
const inventory = join(dir, 'hosts.yaml');
writeFileSync(
  inventory,
  [
    '# Written by npm run demo for a disposable test host.',
    'defaults:',
    `  user: ${host.user}`,
    '  become: true',
    'hosts:',
    '  demo:',
    `    address: ${host.address}`,
    `    identity_file: ${host.identity_file}`,
    `    known_hosts: ${host.known_hosts}`,
    '',
  ].join('\n'),
);
console.log(`[demo] test host up at ${host.address}; inventory ${inventory}\n`);

let failed = false;
try {
  for (const args of [['validate'], ['--dry-run'], ['apply', '--yes'], ['check']]) {
    console.log(`\n$ reconcile ${args.join(' ')} -i ${inventory}`);
    const run = spawnSync(process.execPath, ['bin/reconcile.js', ...args, '-i', inventory], { stdio: 'inherit' });
    // plan exits 2 when it has changes to show: that is the point of a dry-run on a fresh host.
    if (run.status === 1 || run.status === null) {
      failed = true;
      break;
    }
  }
} finally {
  await stopHost(host.name);
  console.log('\n[demo] test host stopped');
}
process.exitCode = failed ? 1 : 0;
