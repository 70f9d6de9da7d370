import { kindTable } from '../../../../test/kind-table.js';

interface Stored {
  value: unknown;
  tags: string[];
}
const VARIABLE = /variables\/name\/default_league$/;

kindTable(import.meta.dirname, [
  {
    drift: 'value changed by hand',
    answer: { url: VARIABLE, change: (v: Stored) => ({ ...v, value: { league: 'nhl' } }) },
    expected: (r) => [r.name],
  },
  { drift: 'a tag removed', answer: { url: VARIABLE, change: (v: Stored) => ({ ...v, tags: [] }) }, expected: (r) => [r.name] },
  {
    drift: 'deleted',
    answer: { url: VARIABLE, status: 404, change: () => ({ detail: 'Variable not found.' }) },
    expected: (r) => [r.name],
  },
  // Equal as JSON is equal: the server's key order is not drift.
  {
    drift: "none: the value's keys in another order",
    answer: { url: VARIABLE, change: (v: Stored) => ({ ...v, value: { seasons: [2024, 2025], league: 'nba' } }) },
    expected: () => [],
  },
]);
