// `npm run record:converged -- DIR RESOURCE [OUT]`: records what a converged host answers for one
// resource, as a kind's table test reads it (src/resources/kinds/KIND/converged*.json): the probe's
// output from the fact script and every HTTP answer its observe asked for. DIR holds the hosts.yaml
// and setup.yaml that `reconcile apply` converged the host with. Refuses to write a recording that
// would plan anything: a converged row must be converged.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec } from '../src/config/load.js';
import { connect } from '../src/engine/run.js';
import { resourceTypes } from '../src/resources/registry.js';
import type { HttpCall } from '../src/transport/http.js';

const [dir, resource, out] = process.argv.slice(2);
if (!dir || !resource) throw new Error('usage: npm run record:converged -- DIR RESOURCE [OUT]');
const spec = await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
const host = spec.hosts.find((h) => h.resources.some((r) => r.name === resource));
const declared = host?.resources.find((r) => r.name === resource);
if (!host || !declared) throw new Error(`no host of ${dir} has ${resource}`);

const type = resourceTypes.of(declared.spec.kind);
const transport = await connect(host.target);
try {
  const ran = await transport.run(`export LC_ALL=C\n${resourceTypes.prelude}\n${type.probe(declared.spec)}`, { sudo: host.target.become });
  if (ran.code !== 0) throw new Error(`the probe failed (exit ${ran.code}): ${ran.stderr}`);
  const http: { method: string; url: string; body?: unknown; status: number; answer: unknown }[] = [];
  const recording: HttpCall = async (method, url, body) => {
    const response = await transport.request(method, url, body);
    http.push({ method, url, ...(body === undefined ? {} : { body }), status: response.status, answer: response.body });
    return response;
  };
  const parsed = type.parse(declared.spec, ran.stdout);
  const actual = type.observe ? (await type.observe(declared.spec, recording)).into(parsed) : parsed;
  const plan = type.plan(declared.spec, actual, {
    specDir: dir,
    declared: [declared.spec],
    isSecret: (text) => spec.secrets.some((s) => text.includes(s.value)),
  });
  const planned = [...plan.now, ...plan.late].map((a) => a.id);
  if (planned.length > 0 || (plan.problems ?? []).length > 0) {
    throw new Error(`${resource} is not converged on ${host.target.name}: ${[...planned, ...(plan.problems ?? [])].join('; ')}`);
  }
  const text = `${JSON.stringify({ recordedAt: new Date().toISOString(), name: resource, spec: declared.spec, probe: ran.stdout, ...(http.length > 0 ? { http } : {}) }, null, 2)}\n`;
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
} finally {
  await transport.close();
}
