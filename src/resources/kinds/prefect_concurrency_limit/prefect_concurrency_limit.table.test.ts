import { kindTable } from '../../../../test/kind-table.js';

interface Stored {
  limit: number;
  active: boolean;
  slot_decay_per_second: number;
  active_slots: number;
}
const LIMIT = /v2\/concurrency_limits\/database$/;

kindTable(import.meta.dirname, [
  { drift: 'deactivated by hand', answer: { url: LIMIT, change: (c: Stored) => ({ ...c, active: false }) }, expected: (r) => [r.name] },
  { drift: 'its limit lowered', answer: { url: LIMIT, change: (c: Stored) => ({ ...c, limit: 1 }) }, expected: (r) => [r.name] },
  {
    drift: 'its decay changed',
    answer: { url: LIMIT, change: (c: Stored) => ({ ...c, slot_decay_per_second: 2 }) },
    expected: (r) => [r.name],
  },
  // Slots in use are the flows' business, not drift.
  {
    drift: 'none: slots taken by running flows',
    answer: { url: LIMIT, change: (c: Stored) => ({ ...c, active_slots: 3 }) },
    expected: () => [],
  },
  {
    drift: 'deleted',
    answer: { url: LIMIT, status: 404, change: () => ({ detail: 'Concurrency Limit not found' }) },
    expected: (r) => [r.name],
  },
]);
