import { randomBytes } from 'node:crypto';
import type { Observation, ResourceTypes } from '../resources/types.js';
import type { DeclaredResource } from '../model/spec.js';
import { HostError, type Transport } from '../transport/transport.js';
import { lockRefusal, waitedForLock } from './lock.js';
import { owedProbe, parseOwed } from './owed.js';

export interface HostFacts {
  /** Parsed actual state, by resource name. */
  actual: Map<string, unknown>;
  /** Notifications recorded by an earlier run that did not get to act on them: target token -> reasons. */
  owed: Map<string, string[]>;
  /** The kernel's boot id: a saved plan made before a reboot no longer describes the host. */
  bootId: string;
}

/**
 * Reads every fact the host's resources need with one script in one remote exec. Each resource's
 * probe runs in a subshell between framing lines that carry a per-run nonce, so no output can
 * forge a boundary; a probe that fails is reported with its resource's name.
 */
export async function gather(
  transport: Transport,
  resources: DeclaredResource[],
  { sudo, types, lock }: { sudo: boolean; types: ResourceTypes; lock?: { preamble: string; timeoutSeconds: number } },
): Promise<HostFacts> {
  const nonce = randomBytes(8).toString('hex');
  const script = factScript(resources, nonce, types, lock?.preamble);
  // What only HTTP from the host can tell (APIs, health URLs) is asked at the same time, over tunnelled
  // channels of the same connection: one round trip for the lot.
  const observing = observeAll(resources, transport, types);
  observing.catch(() => {});
  const result = await transport.run(script, { sudo });
  const locked = lock && lockRefusal(transport.host, result.stdout, lock.timeoutSeconds);
  if (locked) throw locked;
  const sections = splitSections(result.stdout, nonce);
  const actual = new Map<string, unknown>();
  resources.forEach((r, i) => {
    const section = sections.get(String(i));
    if (!section) {
      const status = new RegExp(`\\n@@rc:${nonce}:status:(\\d+)\\n`).exec(result.stdout)?.[1];
      const why = result.stderr.trim() || (status === undefined ? 'the fact script ended early' : `exit ${status}`);
      throw new HostError(transport.host, `reading facts failed before ${r.name}: ${why}`);
    }
    if (section.code !== 0)
      throw new HostError(transport.host, `reading facts of ${r.name} failed (exit ${section.code}): ${result.stderr.trim()}`);
    actual.set(r.name, types.of(r.spec.kind).parse(r.spec, section.output));
  });
  // Asked before the lock was ours, the answers may predate another run's changes: then ask again.
  const observations = waitedForLock(result.stdout) ? await observeAll(resources, transport, types) : await observing;
  for (const [name, observation] of observations) actual.set(name, observation.into(actual.get(name)));
  return { actual, owed: parseOwed(sections.get('owed')?.output ?? ''), bootId: sections.get('boot')?.output.trim() ?? '' };
}

async function observeAll(
  resources: DeclaredResource[],
  transport: Transport,
  types: ResourceTypes,
): Promise<Map<string, Observation<unknown>>> {
  const observed = await Promise.all(
    resources.map(async (r) => [r.name, await types.of(r.spec.kind).observe?.(r.spec, transport.request)] as const),
  );
  return new Map(observed.filter((entry): entry is [string, Observation<unknown>] => entry[1] !== undefined));
}

function splitSections(stdout: string, nonce: string): Map<string, { output: string; code: number }> {
  const sections = new Map<string, { output: string; code: number }>();
  const pattern = new RegExp(`\\n@@rc:${nonce}:begin:([^\\n]+)\\n([\\s\\S]*?)\\n@@rc:${nonce}:end:\\1:(\\d+)\\n`, 'g');
  for (const match of stdout.matchAll(pattern)) sections.set(match[1]!, { output: match[2]!, code: Number(match[3]) });
  return sections;
}

/**
 * The one script that reads a host's facts; each probe's output is framed with the run's nonce.
 * Probes print as they go, a few bytes at a time, and each write would cross the connection as an
 * SSH packet of its own (hundreds per host, each decrypted and handled here: most of a check's CPU
 * per host). dd (coreutils, on every Debian) hands the whole output over at once; the exit status,
 * which the pipe would hide, is the last line.
 */
export function factScript(resources: DeclaredResource[], nonce: string, types: ResourceTypes, preamble = ''): string {
  const frame = (id: string, body: string) =>
    `printf '\\n@@rc:${nonce}:begin:${id}\\n'\n(\n${body}\n)\nprintf '\\n@@rc:${nonce}:end:${id}:%s\\n' "$?"`;
  return [
    'export LC_ALL=C',
    'rc_facts() {',
    preamble,
    types.prelude,
    ...resources.map((r, i) => frame(String(i), types.of(r.spec.kind).probe(r.spec))),
    frame('owed', owedProbe),
    frame('boot', 'cat /proc/sys/kernel/random/boot_id'),
    '}',
    `{ rc_facts; printf '\\n@@rc:${nonce}:status:%s\\n' "$?"; } | dd iflag=fullblock bs=16M status=none`,
  ].join('\n');
}
