import { testContext } from '../../../../test/plan-context.js';
import { describe, expect, it } from 'vitest';
import { factsDigest } from '../../../engine/digest.js';
import type { ScriptStep } from '../../../model/plan.js';
import { apt } from './apt.js';
import { systemPackage } from './package.js';
import type { Package } from '../../../model/generated/setup.js';

const spec = (packages: string[], extra: Partial<Package> = {}): Package => ({
  kind: 'package',
  packages: packages as Package['packages'],
  ...extra,
});
const context = testContext({ specDir: '.' });
/** What the probe prints on a host, as the fact script returns it. */
const facts = (lines: string[]) => apt.parse(['manager=apt', 'now=1000000', ...lines].join('\n'));
const scripts = (plan: ReturnType<typeof systemPackage.plan>) => plan.now.flatMap((a) => a.steps.map((s) => (s as ScriptStep).script));

describe('package (apt), from the facts dpkg-query and apt-cache print', () => {
  it('plans nothing when every package is installed, at its pinned version', () => {
    const host = facts(['pkg=python3-venv\tii \t3.11.2-1+b1', 'lists_updated=999000']);
    expect(systemPackage.plan(spec(['python3-venv']), host, context).now).toEqual([]);
    expect(systemPackage.plan(spec(['python3-venv=3.11.2-1+b1']), host, context).now).toEqual([]);
  });

  it('refreshes the lists only when missing or stale, installs without recommends, and waits for the lock', () => {
    const fresh = systemPackage.plan(
      spec(['python3-venv']),
      facts(['lists_updated=999000', 'policy=python3-venv', 'version=3.11.2-1+b1']),
      context,
    );
    expect(scripts(fresh)).toEqual([
      expect.stringMatching(/apt-get -q -y -o DPkg::Lock::Timeout=300 .* --no-install-recommends install 'python3-venv'$/),
    ]);
    const stale = systemPackage.plan(
      spec(['python3-venv'], { lists_max_age: 60, lock_timeout: 5 }),
      facts(['lists_updated=999000', 'policy=python3-venv', 'version=3.11.2-1+b1']),
      context,
    );
    expect(scripts(stale)).toEqual([
      expect.stringMatching(/DPkg::Lock::Timeout=5 .* update$/),
      expect.stringMatching(/install 'python3-venv'$/),
    ]);
    expect(stale.now[0]!.because).toBe('package lists older than lists_max_age: refreshed first');
  });

  it('says what the sources lack before anything runs, repairs a half-installed package, and removes', () => {
    const lacking = systemPackage.plan(
      spec(['pyton3-venv', 'python3-venv=9.9']),
      facts(['lists_updated=999999', 'policy=python3-venv', 'version=3.11.2-1+b1']),
      context,
    );
    expect(lacking.problems).toEqual([
      "pyton3-venv: no such package in this host's apt sources (apt-cache policy has no candidate); apply will fail",
      "python3-venv: version 9.9 is not in this host's apt sources (they have 3.11.2-1+b1); apply will fail",
    ]);
    const half = systemPackage.plan(spec(['python3-venv']), facts(['pkg=python3-venv\tiF \t3.11.2-1+b1', 'lists_updated=999999']), context);
    expect(half.now[0]!.fields).toEqual([{ field: 'python3-venv', before: '3.11.2-1+b1 (failed to configure)', after: 'present' }]);
    expect(scripts(half)[0]).toMatch(/^dpkg --configure -a && /);
    const removal = systemPackage.plan(spec(['cowsay'], { state: 'absent' }), facts(['pkg=cowsay\tii \t3.03']), context);
    expect(scripts(removal)).toEqual([expect.stringMatching(/ remove 'cowsay'$/)]);
    expect(systemPackage.plan(spec(['cowsay'], { state: 'absent' }), facts(['pkg=cowsay\trc \t3.03']), context).now).toEqual([]);
  });

  it("keeps a saved plan's facts digest across the host clock's seconds", () => {
    const at = (now: number) => ({
      actual: new Map([['p', apt.parse(`manager=apt\nnow=${now}\nlists_updated=5`)]]),
      owed: new Map(),
      bootId: 'b',
    });
    expect(factsDigest(at(100))).toBe(factsDigest(at(200)));
  });
});
