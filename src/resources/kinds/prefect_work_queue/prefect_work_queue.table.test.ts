import { kindTable } from '../../../../test/kind-table.js';

interface Stored {
  priority: number;
  concurrency_limit: number | null;
  is_paused: boolean;
}
const QUEUE = /work_pools\/projections-local\/queues\/urgent$/;

kindTable(import.meta.dirname, [
  { drift: 'paused by hand', answer: { url: QUEUE, change: (q: Stored) => ({ ...q, is_paused: true }) }, expected: (r) => [r.name] },
  { drift: 'its limit raised', answer: { url: QUEUE, change: (q: Stored) => ({ ...q, concurrency_limit: 9 }) }, expected: (r) => [r.name] },
  {
    drift: 'moved down by another queue',
    answer: { url: QUEUE, change: (q: Stored) => ({ ...q, priority: 2 }) },
    expected: (r) => [r.name],
  },
  {
    drift: 'deleted',
    answer: { url: QUEUE, status: 404, change: () => ({ detail: "Work pool queue 'projections-local/urgent' not found." }) },
    expected: (r) => [r.name],
  },
]);
