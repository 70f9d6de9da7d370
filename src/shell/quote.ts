/**
 * The one way a value becomes a word in a remote shell: POSIX single quotes, with each embedded
 * quote closed, escaped and reopened. Inside single quotes nothing is special ($, `, \, newlines),
 * so any string arrives byte for byte as one argument. NUL cannot be passed in an argument at all.
 */
export function quote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each value and joins them with spaces: a ready command line. */
export function command(...words: string[]): string {
  return words.map(quote).join(' ');
}
