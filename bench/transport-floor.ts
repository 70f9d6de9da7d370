// `tsx bench/transport-floor.ts DIR READS`: the SSH library's own control-side CPU for what a no-op
// check of DIR's hosts asks of it, with nothing of reconcile around it: for every host at once, one
// connection (ssh2, as reconcile's transport opens it), one exec, and READS concurrent HTTP GETs
// tunnelled to the host's Prefect server (a check makes that many reads per host; `-vv` lists them).
// Prints one JSON line: {"hosts": N, "cpuSeconds": S}, the CPU of this work alone (not node's start).
import { loadSpec } from '../src/config/load.js';
import { connect } from '../src/engine/run.js';

const [dir, reads] = process.argv.slice(2);
if (!dir || reads === undefined) throw new Error('usage: tsx bench/transport-floor.ts DIR READS');
const spec = await loadSpec(`${dir}/hosts.yaml`, `${dir}/setup.yaml`);
const started = process.cpuUsage();
await Promise.all(
  spec.hosts.map(async ({ target }) => {
    const transport = await connect(target);
    try {
      await transport.run('true', { sudo: target.become });
      const url = `http://${target.address}:4200/api/health`;
      await Promise.all(Array.from({ length: Number(reads) }, () => transport.request('GET', url)));
    } finally {
      await transport.close();
    }
  }),
);
const used = process.cpuUsage(started);
console.log(JSON.stringify({ hosts: spec.hosts.length, cpuSeconds: (used.user + used.system) / 1e6 }));
