import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Resource } from '../../src/model/generated/setup.js';
import { resourceTypes } from '../../src/resources/registry.js';
import type { HttpCall } from '../../src/transport/http.js';

/**
 * Per-kind tables: a spec and what a real host answered (the fact script's section and, for kinds
 * read through an API, the HTTP answers), recorded from a test host converged by `reconcile apply`,
 * then changed the way drift changes them. The converged row of each kind is its idempotency proof
 * in milliseconds: what apply leaves behind plans nothing.
 */
interface Recording {
  recordedAt: string;
  name: string;
  spec: Resource;
  probe: string;
  http?: { method: string; url: string; body?: unknown; status: number; answer: unknown }[];
}

const DIR = 'test/fixtures/converged';
const recordings = new Map(
  readdirSync(DIR).map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Recording]),
);

/** What the host's HTTP would answer, from the recording (a call it never saw fails the test). */
const replay =
  (r: Recording, answers = r.http ?? []): HttpCall =>
  (method, url, body) => {
    const found = answers.find((a) => a.method === method && a.url === url && JSON.stringify(a.body) === JSON.stringify(body));
    if (!found) return Promise.reject(new Error(`not recorded: ${method} ${url} ${JSON.stringify(body)}`));
    return Promise.resolve({ status: found.status, body: structuredClone(found.answer) });
  };

async function planOf(r: Recording, probe = r.probe, http = replay(r)) {
  const type = resourceTypes.of(r.spec.kind);
  const parsed = type.parse(r.spec, probe);
  const actual = type.observe ? (await type.observe(r.spec, http)).into(parsed) : parsed;
  const plan = type.plan(r.spec, actual, { notifiedBecause: [], specDir: '/' });
  return { ids: [...plan.now, ...plan.late].map((a) => a.id), problems: plan.problems ?? [] };
}

/** The recorded HTTP answers with one answer changed. */
const answering = (r: Recording, url: RegExp, change: (answer: never) => unknown) =>
  replay(
    r,
    (r.http ?? []).map((a) => (url.test(a.url) ? { ...a, answer: change(structuredClone(a.answer) as never) } : a)),
  );

describe('every kind, converged: nothing to do', () => {
  // Heartbeat ages are measured against the clock: it reads the time of the recording.
  beforeAll(() => vi.useFakeTimers({ now: new Date([...recordings.values()][0]!.recordedAt), toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());

  it('has a recording for every kind the registry knows', () => {
    const kinds = new Set([...recordings.values()].map((r) => r.spec.kind));
    const schemaKinds = (
      JSON.parse(readFileSync('schemas/setup.schema.json', 'utf8')) as { $defs: { resource: { oneOf: { $ref: string }[] } } }
    ).$defs.resource.oneOf.length;
    expect(kinds.size).toBe(schemaKinds);
  });

  it.each([...recordings.keys()])('%s', async (key) => {
    expect(await planOf(recordings.get(key)!)).toEqual({ ids: [], problems: [] });
  });
});

describe('every kind, drifted: the actions that converge it', () => {
  beforeAll(() => vi.useFakeTimers({ now: new Date([...recordings.values()][0]!.recordedAt), toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());
  const r = (key: string) => recordings.get(key)!;
  const swap = (key: string, from: string | RegExp, to: string) => {
    const probe = r(key).probe.replace(from, to);
    expect(probe, `${key}: the recording no longer has ${String(from)}`).not.toBe(r(key).probe);
    return probe;
  };
  const venv = r('python_venv').name;

  it.each([
    ['package', () => planOf(r('package'), swap('package', /pkg=python3-venv\tii [^\n]*\n/, '')), ['package:python3-venv']],
    [
      'python_venv',
      () => planOf(r('python_venv'), swap('python_venv', 'package:prefect=3.8.3', 'package:prefect=3.8.2')),
      [`download ${venv}`, `snapshot ${venv}`, venv],
    ],
    [
      'prefect_profile',
      () => planOf(r('prefect_profile'), swap('prefect_profile', /@@profiles\n[^]*$/, '@@profiles\ntype=absent\n')),
      [r('prefect_profile').name],
    ],
    ['line', () => planOf(r('line'), swap('line', /^[^]*$/, 'type=absent\n')), [r('line').name]],
    [
      'directory',
      () => planOf(r('directory-manifests'), swap('directory-manifests', 'mode=755', 'mode=700')),
      [r('directory-manifests').name],
    ],
    [
      'systemd_service',
      () =>
        planOf(r('systemd_service-prefect-server'), swap('systemd_service-prefect-server', 'ActiveState=active', 'ActiveState=inactive')),
      ['start prefect-server.service'],
    ],
    ['file', () => planOf(r('file'), swap('file', /sha256=[0-9a-f]+/, `sha256=${'0'.repeat(64)}`)), [r('file').name]],
    ['git', () => planOf(r('git'), swap('git', /head=[0-9a-f]+/, `head=${'1'.repeat(40)}`)), [r('git').name]],
    [
      'prefect_work_pool',
      () =>
        planOf(
          r('prefect_work_pool'),
          '',
          answering(r('prefect_work_pool'), /work_pools\/projections-local$/, (pool: { is_paused: boolean }) => ({
            ...pool,
            is_paused: true,
          })),
        ),
      [r('prefect_work_pool').name],
    ],
    [
      'prefect_deployments',
      () =>
        planOf(
          r('prefect_deployments'),
          undefined,
          answering(r('prefect_deployments'), /deployments\/filter$/, (all: { name: string; paused: boolean }[]) =>
            all.map((d) => (d.name === 'live-score' ? { ...d, paused: true } : d)),
          ),
        ),
      ['deploy live-score'],
    ],
  ] as const)('%s', async (_kind, plan, ids) => {
    expect((await plan()).ids).toEqual(ids);
  });
});
