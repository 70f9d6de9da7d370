import { testContext } from '../../../../test/plan-context.js';
import { describe, expect, it } from 'vitest';
import type { ScriptStep } from '../../../model/plan.js';
import { prefectProfile } from './prefect-profile.js';
import type { PrefectProfile } from '../../../model/generated/setup.js';

const spec = (settings: Record<string, string>): PrefectProfile => ({
  kind: 'prefect_profile',
  user: 'daniel',
  profile: 'selfhost',
  settings,
});
const facts = (text: string) => ({ prefectHome: '/home/daniel/.prefect', file: { type: 'file' as const, content: Buffer.from(text) } });
const context = testContext({ specDir: '.' });
/** The new profiles.toml, from the atomic write step's stdin. */
const written = (plan: ReturnType<typeof prefectProfile.plan>) =>
  Buffer.from((plan.now[0]!.steps[1] as ScriptStep).stdinBase64!, 'base64').toString();

describe('prefect_profile with setting names Prefect takes as one (settings/models AliasChoices)', () => {
  // As `prefect config set PREFECT_SERVER_UI_API_URL=...` writes it.
  const file =
    'active = "selfhost"\n\n[profiles.selfhost]\nPREFECT_API_URL = "http://10.0.0.5:4200/api"\nPREFECT_SERVER_UI_API_URL = "http://10.0.0.5:4200/api"\n';

  it('is in sync when the profile holds the same value under another name', () => {
    expect(prefectProfile.plan(spec({ PREFECT_UI_API_URL: 'http://10.0.0.5:4200/api' }), facts(file), context).now).toEqual([]);
  });

  it('changes the one key the profile has, adding no duplicate', () => {
    const plan = prefectProfile.plan(spec({ PREFECT_UI_API_URL: 'http://10.0.0.6:4200/api' }), facts(file), context);
    expect(plan.now[0]!.fields).toEqual([
      { field: 'selfhost.PREFECT_UI_API_URL', before: 'http://10.0.0.5:4200/api', after: 'http://10.0.0.6:4200/api' },
    ]);
    expect(written(plan)).toBe(
      file.replace('PREFECT_SERVER_UI_API_URL = "http://10.0.0.5:4200/api"', 'PREFECT_SERVER_UI_API_URL = "http://10.0.0.6:4200/api"'),
    );
  });

  it('adds a missing setting under the declared name, and refuses one setting declared twice', () => {
    const plan = prefectProfile.plan(
      spec({ PREFECT_API_DATABASE_CONNECTION_URL: 'sqlite+aiosqlite:////srv/prefect.db' }),
      facts(file),
      context,
    );
    expect(written(plan)).toContain('PREFECT_API_DATABASE_CONNECTION_URL = "sqlite+aiosqlite:////srv/prefect.db"\n');
    expect(
      prefectProfile.check!(
        spec({ PREFECT_API_URL: 'x', PREFECT_SERVER_DATABASE_CONNECTION_URL: 'a', PREFECT_API_DATABASE_CONNECTION_URL: 'b' }),
        { specDir: '.' },
      ),
    ).toEqual([
      {
        field: ['settings', 'PREFECT_API_DATABASE_CONNECTION_URL'],
        message:
          'PREFECT_API_DATABASE_CONNECTION_URL and PREFECT_SERVER_DATABASE_CONNECTION_URL are one Prefect setting (PREFECT_SERVER_DATABASE_CONNECTION_URL = PREFECT_API_DATABASE_CONNECTION_URL); keep one',
      },
    ]);
  });
});
