import { kindTable } from '../../../../test/kind-table.js';

interface Stored {
  data: Record<string, unknown>;
}
const BLOCK = /block_documents\/name\/alerts\?include_secrets=true$/;

kindTable(import.meta.dirname, [
  {
    drift: 'the secret URL changed by hand',
    answer: { url: BLOCK, change: (b: Stored) => ({ ...b, data: { ...b.data, url: 'https://elsewhere.example.com' } }) },
    expected: (r) => [r.name],
  },
  {
    drift: 'a plain field changed by hand',
    answer: { url: BLOCK, change: (b: Stored) => ({ ...b, data: { ...b.data, method: 'POST' } }) },
    expected: (r) => [r.name],
  },
  {
    drift: 'a field the spec gives removed on the server',
    answer: { url: BLOCK, change: (b: Stored) => ({ ...b, data: { url: b.data.url, method: b.data.method } }) },
    expected: (r) => [r.name],
  },
  // Fields the spec leaves out are the server's (a PATCH merges).
  {
    drift: 'none: a field the spec does not give set on the server',
    answer: { url: BLOCK, change: (b: Stored) => ({ ...b, data: { ...b.data, verify: false } }) },
    expected: () => [],
  },
]);
