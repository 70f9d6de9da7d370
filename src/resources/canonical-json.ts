/**
 * JSON text with every mapping's keys sorted, so that two values equal as JSON give the same text
 * (a server may answer with its keys in another order). `leaf` may give the text of an object JSON
 * cannot hold (a value decided only at deploy time, say).
 */
export function canonicalJson(value: unknown, leaf?: (v: object) => string | undefined): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    const text = leaf?.(v);
    if (text !== undefined) return text;
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sort(x)]),
    );
  };
  // JSON.stringify(undefined) is undefined, whatever its declared type says.
  return value === undefined ? 'undefined' : JSON.stringify(sort(value));
}
