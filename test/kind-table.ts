import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Resource } from '../src/model/generated/setup.js';
import { resourceTypes } from '../src/resources/registry.js';
import type { ResourcePlan } from '../src/resources/types.js';
import type { HttpCall } from '../src/transport/http.js';

/**
 * A kind's table test: a spec and what a real host answered (the fact script's section and, for
 * kinds read through an API, the HTTP answers), recorded from a test host that `reconcile apply`
 * converged (`npm run record:converged`), then changed the way drift changes them. The converged
 * rows are the kind's idempotency proof in milliseconds: what apply leaves behind plans nothing.
 */
export interface Recording {
  recordedAt: string;
  name: string;
  spec: Resource;
  probe: string;
  http?: RecordedCall[];
}

export interface RecordedCall {
  method: string;
  url: string;
  body?: unknown;
  status: number;
  answer: unknown;
}

/** The recordings beside a kind's table test: `converged.json` or `converged-NAME.json`, keyed by NAME. */
export function recordingsIn(dir: string): Map<string, Recording> {
  const files = readdirSync(dir).filter((f) => /^converged(-[\w-]+)?\.json$/.test(f));
  return new Map(
    files.map((f) => [basename(f, '.json').replace(/^converged-?/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Recording]),
  );
}

/** What the host's HTTP would answer, from the recording (a call it never saw fails the test). */
const replay =
  (answers: RecordedCall[]): HttpCall =>
  (method, url, body) => {
    const found = answers.find((a) => a.method === method && a.url === url && JSON.stringify(a.body) === JSON.stringify(body));
    if (!found) return Promise.reject(new Error(`not recorded: ${method} ${url} ${JSON.stringify(body)}`));
    return Promise.resolve({ status: found.status, body: structuredClone(found.answer) });
  };

/** The plan of a resource from a probe section and HTTP answers. */
export async function resourcePlan(r: Recording, probe = r.probe, answers = r.http ?? []): Promise<ResourcePlan> {
  const type = resourceTypes.of(r.spec.kind);
  const parsed = type.parse(r.spec, probe);
  const actual = type.observe ? (await type.observe(r.spec, replay(answers))).into(parsed) : parsed;
  // A recorded spec held its secret fields' values from secrets: (record:converged plans with the spec's secrets).
  return type.plan(r.spec, actual, { specDir: '/', declared: [r.spec], isSecret: () => true });
}

/** The ids of the actions a resource plans, and its problems. */
export async function planOf(r: Recording, probe = r.probe, answers = r.http ?? []): Promise<{ ids: string[]; problems: string[] }> {
  const plan = await resourcePlan(r, probe, answers);
  return { ids: [...plan.now, ...plan.late].map((a) => a.id), problems: plan.problems ?? [] };
}

/** What drift does to a recording, and the actions that must converge it. */
export interface DriftRow {
  drift: string;
  /** The recording (by key) the drift is made from; '' for `converged.json`. */
  from?: string;
  /** A changed probe: every match of `from` must exist in the recording (a stale row fails). */
  probe?: { replace: string | RegExp; with: string };
  /** A changed HTTP answer: the recorded answer to the URL that matches, changed (and its status, if given). */
  answer?: { url: RegExp; change: (answer: never) => unknown; status?: number };
  expected: (r: Recording) => string[];
}

/**
 * The table test for the kind whose folder is `dir`: every recording there plans nothing, and each
 * drift row plans exactly its expected actions. A kind without both is refused.
 */
export function kindTable(dir: string, rows: DriftRow[]): void {
  const recordings = recordingsIn(dir);
  const kind = basename(dir);
  const recording = (key = '') => {
    const found = recordings.get(key);
    if (!found) throw new Error(`${dir}: no converged${key ? `-${key}` : ''}.json`);
    return found;
  };

  describe(`${kind}: table`, () => {
    // Heartbeat ages are measured against the clock: it reads the time of the recording.
    beforeAll(() => vi.useFakeTimers({ now: new Date([...recordings.values()][0]?.recordedAt ?? 0), toFake: ['Date'] }));
    afterAll(() => vi.useRealTimers());

    it('has a converged recording of this kind and at least one drift row', () => {
      expect(recordings.size).toBeGreaterThan(0);
      for (const r of recordings.values()) expect(r.spec.kind).toBe(kind);
      expect(rows.length).toBeGreaterThan(0);
    });

    it.each([...recordings.keys()])('converged %s: nothing to do', async (key) => {
      expect(await planOf(recording(key))).toEqual({ ids: [], problems: [] });
    });

    it.each(rows.map((row) => [row.drift, row] as const))('drifted, %s: the actions that converge it', async (_drift, row) => {
      const r = recording(row.from);
      const probe = row.probe ? r.probe.replace(row.probe.replace, row.probe.with) : r.probe;
      if (row.probe) expect(probe, `the recording no longer has ${String(row.probe.replace)}`).not.toBe(r.probe);
      const answers = (r.http ?? []).map((a) =>
        row.answer?.url.test(a.url)
          ? { ...a, status: row.answer.status ?? a.status, answer: row.answer.change(structuredClone(a.answer) as never) }
          : a,
      );
      if (row.answer)
        expect(
          r.http?.some((a) => row.answer?.url.test(a.url)),
          `no recorded answer to ${String(row.answer.url)}`,
        ).toBe(true);
      expect((await planOf(r, probe, answers)).ids).toEqual(row.expected(r));
    });
  });
}
