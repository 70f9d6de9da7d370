import type { ApplyEvent } from '../engine/apply.js';
import { comparesLater, fieldChange, symbols, type Action, type ContentChange } from '../model/plan.js';
import type { HostOutcome } from '../engine/run.js';
import { unifiedDiff } from './diff.js';

export interface Style {
  color: boolean;
}

const paint = (style: Style, code: number, text: string) => (style.color ? `\u001b[${code}m${text}\u001b[0m` : text);
const green = (s: Style, t: string) => paint(s, 32, t);
const red = (s: Style, t: string) => paint(s, 31, t);
const yellow = (s: Style, t: string) => paint(s, 33, t);
const cyan = (s: Style, t: string) => paint(s, 36, t);
const bold = (s: Style, t: string) => paint(s, 1, t);

/** The dry-run: per host, every action with its symbol, field changes, content diff and cause. */
export function renderPlan(outcomes: HostOutcome[], style: Style, asCheck = false): string {
  return outcomes
    .map((o) =>
      [
        hostLine(o, style, asCheck),
        ...o.after.map((label) => `  ${cyan(style, '⧗')} after ${label}: apply starts this host once ${label.split(':')[0]} is done`),
        ...(o.plan?.actions ?? []).flatMap((a) => renderAction(a, style)),
        ...(o.plan?.problems ?? []).map((p) => `  ${red(style, '!')} ${p}`),
        ...(o.plan?.deferred ?? []).map((d) => `  ${cyan(style, '…')} ${d}`),
      ].join('\n'),
    )
    .join('\n\n');
}

function hostLine(o: HostOutcome, style: Style, asCheck: boolean): string {
  const name = bold(style, `${o.host} (${o.address})`);
  if (o.status === 'failed') return `${name}: ${red(style, `error: ${o.error}`)}`;
  if (o.status === 'skipped') return `${name}: ${red(style, o.error ?? 'skipped')}`;
  const actions = o.plan?.actions ?? [];
  // A comparison put off until a server answers is not a difference found: it is counted apart.
  const later = actions.filter(comparesLater).length;
  const n = actions.length - later;
  const problems = o.plan?.problems.length ?? 0;
  if (o.status === 'applied') return `${name}: ${green(style, `${n} change${n === 1 ? '' : 's'} applied`)}`;
  if (actions.length === 0 && problems === 0) return `${name}: ${green(style, asCheck ? 'in sync' : 'no changes')}`;
  const deferred = later > 0 ? `${later} to compare later in the run, once what they read is there` : '';
  if (asCheck) {
    const found = n + problems > 0 ? `drift: ${n + problems} difference${n + problems === 1 ? '' : 's'}` : 'not compared';
    return `${name}: ${yellow(style, [found, deferred].filter(Boolean).join('; '))}`;
  }
  const counts = [
    n > 0 ? `${n} change${n === 1 ? '' : 's'}` : '',
    problems > 0 ? `${problems} problem${problems === 1 ? '' : 's'}` : '',
    deferred,
  ];
  return `${name}: ${yellow(style, counts.filter(Boolean).join(', '))}`;
}

export function renderAction(action: Action, style: Style): string[] {
  const symbol = symbols[action.verb];
  const colour = symbol === '+' ? green : symbol === '-' ? red : yellow;
  const lines = [`  ${colour(style, symbol)} ${action.title}${action.because ? ` (${action.because})` : ''}`];
  for (const f of action.fields) lines.push(`      ${fieldChange(f)}`);
  if (action.content) lines.push(...renderDiff(action.content, style).map((l) => `      ${l}`));
  return lines;
}

function renderDiff(change: ContentChange, style: Style): string[] {
  if (change.binary) return [`content: ${change.before ?? '(none)'} -> ${change.after}`];
  return unifiedDiff(change)
    .filter((l) => l !== '' && !l.startsWith('\\ No newline'))
    .map((l) => (l.startsWith('+') ? green(style, l) : l.startsWith('-') ? red(style, l) : l.startsWith('@@') ? cyan(style, l) : l));
}

/** One line per action as apply goes (plain output: not a TTY, or --json elsewhere). */
export function renderEvent(event: ApplyEvent, style: Style): string | undefined {
  // A phase is for a live view: a log gets the actions and their outcome.
  if (event.type === 'planned' || event.type === 'finished' || event.type === 'phase') return undefined;
  if (event.type === 'host-waiting') return `${event.host}: ${event.detail}`;
  const label = `${event.host}: ${symbols[event.action.verb]} ${event.action.title}`;
  if (event.type === 'done') return `${label} ${green(style, 'done')} (${(event.ms / 1000).toFixed(1)}s)`;
  if (event.type === 'waiting') return `${label}: ${event.detail}`;
  if (event.type === 'failed') return `${label} ${event.interrupted ? yellow(style, 'INTERRUPTED') : red(style, 'FAILED')}: ${event.error}`;
  return `${label}: running`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The one line under a run: how many hosts ended how, then `tail`; red when a host failed. */
function totalsLine(outcomes: HostOutcome[], ended: [HostOutcome['status'], string][], tail: string, style: Style): string {
  const count = (status: HostOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const skipped = count('skipped') > 0 ? ` (${count('skipped')} skipped)` : '';
  const text = `hosts: ${ended.map(([status, word]) => `${count(status)} ${word}`).join(', ')}, ${count('failed')} failed${skipped}; ${tail}`;
  return count('failed') + count('skipped') > 0 ? red(style, text) : text;
}

export function renderSummary(outcomes: HostOutcome[], ms: number, style: Style): string {
  const actions = outcomes.reduce((n, o) => n + (o.apply?.done.length ?? 0), 0);
  const tail = `${plural(actions, 'action')} done in ${(ms / 1000).toFixed(1)}s`;
  return totalsLine(
    outcomes,
    [
      ['applied', 'changed'],
      ['converged', 'unchanged'],
    ],
    tail,
    style,
  );
}

/** Under a plan or a check: the same line across every host, with what was found. */
export function renderTotals(outcomes: HostOutcome[], style: Style, asCheck: boolean): string {
  const actions = outcomes.flatMap((o) => o.plan?.actions ?? []);
  const later = actions.filter(comparesLater).length;
  const changes = actions.length - later;
  const problems = outcomes.reduce((n, o) => n + (o.plan?.problems.length ?? 0), 0);
  const deferred = later > 0 ? [`${later} to compare later in the run, once what they read is there`] : [];
  if (asCheck) {
    const tail = [plural(changes + problems, 'difference'), ...deferred].join(', ');
    return totalsLine(
      outcomes,
      [
        ['changes', 'drifted'],
        ['converged', 'in sync'],
      ],
      tail,
      style,
    );
  }
  const tail = [plural(changes, 'change'), ...(problems > 0 ? [plural(problems, 'problem')] : []), ...deferred].join(', ');
  return totalsLine(
    outcomes,
    [
      ['changes', 'with changes'],
      ['converged', 'unchanged'],
    ],
    tail,
    style,
  );
}
