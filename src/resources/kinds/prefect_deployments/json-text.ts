/** A value from JSON we do not control, as text: strings as they are, anything else as JSON (never "[object Object]"). */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? 'undefined' : JSON.stringify(value);
}
