import { describe, expect, it } from 'vitest';
import { compareDeployment, zonedInstant, type Fix, type Registered } from './compare.js';
import { intervalSeconds } from '../../durations.js';
import { deploymentEntries, PrefectYamlProblem, storedDeployment, type ProjectContext } from './deploy-config.js';
import { cleandoc, flowFacts, Unknowable } from './flow-source.js';
import { parsePyYaml } from './yaml11.js';

describe('prefect.yaml read as PyYAML safe_load reads it', () => {
  it('gives YAML 1.1 scalars their PyYAML values', () => {
    const v = parsePyYaml(
      'v: [yes, No, on, OFF, y, n, 1:30, 012, 09, 1_000, 1e3, 1.5e3, 1.5e+3, 0x1F, 0b101, 2024-01-01 10:00:00, 2024-01-01, 2024-1-2 3:04:05 -5, 2024-01-01T10:00:00.5Z, ~]',
    ) as { v: unknown[] };
    expect(v.v).toEqual([
      true,
      false,
      true,
      false,
      'y',
      'n',
      90,
      10,
      '09',
      1000,
      '1e3',
      '1.5e3',
      1500,
      31,
      5,
      '2024-01-01T10:00:00',
      '2024-01-01',
      '2024-01-02T03:04:05-05:00',
      '2024-01-01T10:00:00.500000Z',
      null,
    ]);
  });

  it('merges a definitions block with <<, explicit keys winning', () => {
    const project = parsePyYaml(`
definitions:
  work_pools: &pool
    name: projections-local
    work_queue_name: default
  base: &base
    tags: [base]
    work_pool: *pool
deployments:
  - <<: *base
    name: a
    tags: [mine]
    entrypoint: flows/a.py:a
`) as { deployments: Record<string, unknown>[] };
    expect(project.deployments[0]).toEqual({
      name: 'a',
      tags: ['mine'],
      entrypoint: 'flows/a.py:a',
      work_pool: { name: 'projections-local', work_queue_name: 'default' },
    });
  });
});

describe('a flow read from its source', () => {
  const source = [
    'import prefect',
    '@prefect.flow(',
    '    log_prints=True,  # (comment)',
    "    version='v7',",
    ')',
    'async def live_score(league: str = "nba", opts: dict = {"a": (1, 2)}) -> None:',
    '    """Poll live scores.',
    '',
    '        Indented detail line.',
    '    """',
    '    return None',
    '',
    '@flow(name="nightly", description=DESCRIPTION)',
    'def build(x):',
    "    'single line doc'",
  ].join('\n');

  it('gives the name, the docstring as inspect.getdoc cleans it, and the decorator version', () => {
    expect(flowFacts(source, 'live_score')).toEqual({
      name: 'live-score',
      description: 'Poll live scores.\n\nIndented detail line.',
      version: 'v7',
    });
  });

  it('says a non-literal decorator argument cannot be known', () => {
    const facts = flowFacts(source, 'build')!;
    expect(facts.name).toBe('nightly');
    expect(facts.description).toBeInstanceOf(Unknowable);
  });

  it('cleans docstrings like Python', () => {
    expect(cleandoc('  First\n\t  tabbed\n    four\n\n')).toBe('First\n      tabbed\nfour');
  });
});

describe('what prefect deploy would store', () => {
  const flow = '@flow\ndef etl(n: int = 1):\n    """Nightly ETL."""\n';
  const context: ProjectContext = {
    projectDir: '/home/me/proj',
    env: new Map([
      ['TEAM', 'data'],
      ['HOME', '/home/me'],
    ]),
    variables: new Map<string, unknown>([
      ['owner', 'ops'],
      ['limits', { n: 3 }],
    ]),
    flowFiles: new Map([['flows/etl.py', { source: flow, md5: '0123456789abcdef0123456789abcdef' }]]),
  };
  const stored = (yaml: string, index = 0) => {
    const project = parsePyYaml(yaml) as Record<string, unknown>;
    return storedDeployment(deploymentEntries('prefect.yaml', project)[index]!, project, context);
  };

  it('resolves templates, takes the docstring, hashes the file for the version, and works in the project by default', () => {
    const d = stored(`
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    tags: ["{{ $TEAM }}", "owner-{{ prefect.variables.owner }}", "{{ build-image.tag }}"]
    parameters: {n: "{{ prefect.variables.limits }}", where: "{{ $UNSET }}", raw: "{{ $UNSET }}-x"}
    work_pool: {name: pool, job_variables: {env: {KEY: "{{ prefect.blocks.secret.api-key }}"}}}
    schedules:
      - interval: PT1H
        anchor_date: "2026-01-01T00:00:00"
        timezone: Europe/Berlin
        parameters: {n: 2}
        slug: hourly
      - rrule: FREQ=WEEKLY;BYDAY=MO
        active: "false"
`);
    expect(d.flowName).toBe('etl');
    expect(d.tags).toEqual(['data', 'owner-ops']);
    // An unset variable is kept by the environment pass and emptied by the last one (templating apply_values).
    expect(d.parameters).toEqual({ n: { n: 3 }, where: '', raw: '-x' });
    expect(d.description).toBe('Nightly ETL.');
    expect(d.version).toBe('0123456789abcdef0123456789abcdef');
    expect((d.jobVariables as { env: { KEY: unknown } }).env.KEY).toBeInstanceOf(Unknowable);
    expect(d.pullSteps).toEqual([{ 'prefect.deployments.steps.set_working_directory': { directory: '/home/me/proj' } }]);
    expect(d.schedules).toEqual([
      {
        schedule: { interval: 3600, anchor_date: '2026-01-01T00:00:00', timezone: 'Europe/Berlin' },
        active: true,
        parameters: { n: 2 },
        slug: 'hourly',
        max_scheduled_runs: null,
      },
      { schedule: { rrule: 'FREQ=WEEKLY;BYDAY=MO', timezone: 'UTC' }, active: false, parameters: {}, slug: null, max_scheduled_runs: null },
    ]);
  });

  it('reads intervals as pydantic reads a timedelta', () => {
    expect([3600, 'PT1H', 'P1DT2H', '01:30:00', '1 day, 0:00:10', 'PT0.5S', 'soon'].map(intervalSeconds)).toEqual([
      3600,
      3600,
      93600,
      5400,
      86410,
      0.5,
      undefined,
    ]);
  });

  it('treats an empty concurrency_limit as none, as Prefect does, and rejects what Prefect rejects', () => {
    expect(stored('deployments:\n  - name: a\n    entrypoint: flows/etl.py:etl\n    concurrency_limit:\n').concurrencyLimit).toBeNull();
    const problem = (yaml: string) => {
      try {
        deploymentEntries('proj/prefect.yaml', parsePyYaml(yaml));
      } catch (error) {
        expect(error).toBeInstanceOf(PrefectYamlProblem);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(problem('deployments:\n  a: {name: a}\n')).toMatch(/^proj\/prefect.yaml: deployments: must be a list/);
    expect(problem('deployments:\n  - name: a\n    version: 1.0\n')).toContain(
      "deployment 'a': version: must be a string, not a number 1 (quote it",
    );
    expect(problem('deployments:\n  - name: a\n    schedules: [{cron: "* * * * *", catchup: false}]\n')).toContain("unknown key 'catchup'");
    expect(problem('prefect-version: 2.10\ndeployments: []\n')).toBe(
      'proj/prefect.yaml: prefect-version: must be a string, not a decimal number 2.1 (put the value in quotes, as written); Prefect rejects this too (`prefect deploy` prints a validation error and deploys nothing from this file)',
    );
  });

  it('accepts and ignores an empty legacy schedule, as Prefect does (Dict[None, None], then falsy)', () => {
    const entry = 'deployments:\n  - name: a\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: p}\n';
    expect(stored(`${entry}    schedule: {}\n`).schedules).toBeUndefined();
    expect(stored(`${entry}    schedule: {}\n    schedules: [{cron: "0 * * * *"}]\n`).schedules).toHaveLength(1);
    expect(() => stored(`${entry}    schedule: {cron: "0 * * * *"}\n    schedules: []\n`)).toThrow(/both 'schedule' and 'schedules'/);
  });

  it('stores tags as ListOfNonEmptyStrings does: text becomes its characters, items their str(), blanks dropped', () => {
    const tagged = (tags: string) => stored(`deployments:\n  - name: a\n    entrypoint: flows/etl.py:etl\n    tags: ${tags}\n`).tags;
    expect(tagged('dev')).toEqual(['d', 'e', 'v']);
    expect(tagged('"a b"')).toEqual(['a', 'b']);
    expect(tagged('[1, true, "", " ", x]')).toEqual(['1', 'True', 'x']);
  });

  it('reads the flow of a module entrypoint (package.module:flow) from the file the probe found for it', () => {
    const project = parsePyYaml('deployments:\n  - name: m\n    entrypoint: flows.etl:etl\n    work_pool: {name: p}\n') as Record<
      string,
      unknown
    >;
    const moduleContext = { ...context, flowFiles: new Map([['flows.etl', context.flowFiles.get('flows/etl.py')!]]) };
    const d = storedDeployment(deploymentEntries('prefect.yaml', project)[0]!, project, moduleContext);
    expect([d.functionName, d.flowName, d.description, d.version]).toEqual([
      'etl',
      'etl',
      'Nightly ETL.',
      '0123456789abcdef0123456789abcdef',
    ]);
  });

  const registered = (fields: Partial<Registered>): Registered => ({
    id: 'id',
    name: 'nightly',
    entrypoint: 'flows/etl.py:etl',
    description: 'Nightly ETL.',
    version: '0123456789abcdef0123456789abcdef',
    tags: [],
    parameters: {},
    paused: false,
    enforce_parameter_schema: true,
    global_concurrency_limit: null,
    concurrency_options: null,
    work_pool_name: 'pool',
    work_queue_name: 'default',
    job_variables: {},
    schedules: [],
    pull_steps: [{ 'prefect.deployments.steps.set_working_directory': { directory: '/home/me/proj' } }],
    ...fields,
  });
  const fix = (how: Fix) => `fix:${typeof how === 'string' ? how : `delete-schedule ${how.deleteSchedule}`}`;

  it('is in sync with what the server stores after the deploy, and names each field that differs', () => {
    const d = stored(`
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    paused: yes
    concurrency_limit: {limit: 2, collision_strategy: CANCEL_NEW}
    work_pool: {name: pool}
    schedules: [{cron: "0 3 * * *", timezone: America/New_York}, {interval: 60, anchor_date: "2026-01-01T00:00:00", timezone: Europe/Berlin}]
`);
    const server = registered({
      paused: true,
      global_concurrency_limit: { limit: 2 },
      concurrency_options: { collision_strategy: 'CANCEL_NEW' },
      schedules: [
        // Order is not kept; the anchor comes back in UTC.
        {
          id: 's1',
          schedule: { interval: 60.0, anchor_date: '2025-12-31T23:00:00Z', timezone: 'Europe/Berlin' },
          active: true,
          parameters: {},
          slug: null,
          max_scheduled_runs: null,
        },
        {
          id: 's2',
          schedule: { cron: '0 3 * * *', timezone: 'America/New_York', day_or: true },
          active: true,
          parameters: {},
          slug: null,
          max_scheduled_runs: null,
        },
      ],
    });
    expect(compareDeployment(d, server, fix)).toEqual({ fields: [], problems: [] });
    const drifted = compareDeployment(
      d,
      {
        ...server,
        paused: false,
        version: 'edited',
        concurrency_options: { collision_strategy: 'ENQUEUE' },
        schedules: [{ ...server.schedules[1]!, max_scheduled_runs: 5 }, server.schedules[0]!],
      },
      fix,
    );
    expect(drifted.fields.map((f) => f.field)).toEqual([
      'nightly: version',
      'nightly: paused',
      'nightly: collision_strategy',
      'nightly: schedule',
    ]);
  });

  it('reports what a redeploy cannot clear, and never prints secret-like values', () => {
    const d = stored('deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: pool}\n');
    const compared = compareDeployment(
      d,
      registered({
        job_variables: { env: { API_KEY: 'sk-live-123' } },
        schedules: [{ id: 's1', schedule: { cron: '* * * * *', timezone: null, day_or: true }, active: true }],
      }),
      fix,
    );
    expect(compared.problems).toEqual([
      'nightly: prefect.yaml sets no job variables but the server keeps env (a redeploy cannot clear them: fix:delete)',
      'nightly: prefect.yaml has no schedules but the server has 1 (a redeploy keeps them: fix:clear-schedules)',
    ]);
    const withKey = stored(
      'deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: pool, job_variables: {env: {API_KEY: new, LEVEL: debug}}}\n',
    );
    const shown = compareDeployment(withKey, registered({ job_variables: { env: { API_KEY: 'sk-live-123', LEVEL: 'info' } } }), fix).fields;
    expect(shown).toEqual([
      {
        field: 'nightly: job variables',
        before: '{"env":{"API_KEY":"[hidden]","LEVEL":"info"}}',
        after: '{"env":{"API_KEY":"[hidden]","LEVEL":"debug"}}',
      },
    ]);
  });

  it('never prints what a block reference resolved to on the server, in any field a deployment can print', () => {
    const secret = 'sk-from-a-secret-block';
    const ref = '"{{ prefect.blocks.secret.api }}"';
    const d = stored(`deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    parameters: {key: ${ref}, n: 1}
    work_pool: {name: pool, job_variables: {env: {X: ${ref}}, image: ${ref}}}
    schedules: [{cron: "0 3 * * *", parameters: {key: ${ref}, n: 2}}]
`);
    const server = registered({
      parameters: { key: secret, n: 5 },
      job_variables: { env: { X: secret }, image: secret, extra: 1 },
      schedules: [
        {
          id: 's1',
          schedule: { cron: '0 4 * * *', timezone: null, day_or: true },
          active: true,
          parameters: { key: secret, n: 2 },
          slug: null,
          max_scheduled_runs: null,
        },
      ],
    });
    const compared = compareDeployment(d, server, fix);
    // Each of these fields differs, so each is printed; the block's value is in none of them.
    expect(compared.fields.map((f) => f.field)).toEqual(['nightly: parameters', 'nightly: job variables', 'nightly: schedule']);
    expect(JSON.stringify(compared)).not.toContain(secret);
  });

  it('knows that schedules with slugs are updated in place: strays and max_scheduled_runs stay, a file without slugs is refused', () => {
    const d = stored(
      'deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: pool}\n    schedules: [{cron: "0 3 * * *", slug: nightly}]\n',
    );
    const onServer = (slug: string, fields: Record<string, unknown> = {}) => ({
      id: `id-${slug}`,
      schedule: { cron: '0 3 * * *', timezone: null, day_or: true },
      active: true,
      parameters: {},
      slug,
      max_scheduled_runs: null,
      ...fields,
    });
    expect(compareDeployment(d, registered({ schedules: [onServer('nightly', { max_scheduled_runs: 5 }), onServer('old')] }), fix)).toEqual(
      {
        fields: [],
        problems: [
          'nightly: schedule nightly has max_scheduled_runs 5 on the server, which prefect.yaml cannot set and a redeploy keeps (fix:delete-schedule id-nightly)',
          'nightly: schedule old is on the server but not in prefect.yaml (a redeploy keeps it: fix:delete-schedule id-old)',
        ],
      },
    );
    // What a redeploy does update in place is still compared.
    expect(
      compareDeployment(d, registered({ schedules: [onServer('nightly', { active: false })] }), fix).fields.map((f) => f.field),
    ).toEqual(['nightly: schedule']);
    const unslugged = stored(
      'deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: pool}\n    schedules: [{cron: "0 4 * * *"}]\n',
    );
    const refused = compareDeployment(unslugged, registered({ schedules: [onServer('nightly')] }), fix);
    expect(refused.fields).toEqual([]);
    expect(refused.problems[0]).toContain('Prefect refuses a redeploy');
  });

  it('takes "None" on the server for no description, and finds wall-clock instants in a timezone', () => {
    const noDoc: ProjectContext = {
      ...context,
      flowFiles: new Map([['flows/etl.py', { source: '@flow\ndef etl():\n    pass\n', md5: '0123456789abcdef0123456789abcdef' }]]),
    };
    const project = parsePyYaml(
      'deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: pool}\n',
    ) as Record<string, unknown>;
    const d = storedDeployment(deploymentEntries('prefect.yaml', project)[0]!, project, noDoc);
    expect(compareDeployment(d, registered({ description: 'None' }), fix).fields).toEqual([]);
    expect(compareDeployment(d, registered({ description: null }), fix).fields).toEqual([]);
    expect(new Date(zonedInstant('2026-07-01T12:00:00', 'America/New_York')).toISOString()).toBe('2026-07-01T16:00:00.000Z');
  });
});
