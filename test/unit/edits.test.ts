import { describe, expect, it } from 'vitest';
import { withLine } from '../../src/resources/kinds/line/line.js';
import { readTable, setKeys } from '../../src/resources/kinds/prefect_profile/toml-edit.js';
import { command, quote } from '../../src/shell/quote.js';

describe('line edits', () => {
  it.each([
    ['appends to a file ending in a newline', 'a\nb\n', 'c', undefined, 'a\nb\nc\n'],
    ['adds the missing newline first', 'a\nb', 'c', undefined, 'a\nb\nc\n'],
    ['creates the only line of an empty file', '', 'c', undefined, 'c\n'],
    ['leaves a present line alone', 'a\nc\nb\n', 'c', undefined, 'a\nc\nb\n'],
    [
      'replaces the first matching line in place',
      'x\nalias p=old\ny\nalias p=other\n',
      'alias p=new',
      '^alias p=',
      'x\nalias p=new\ny\nalias p=other\n',
    ],
    ['keeps CRLF line ends', 'a\r\nalias p=old\r\n', 'alias p=new', '^alias p=', 'a\r\nalias p=new\r\n'],
    ['appends with CRLF in a CRLF file', 'a\r\n', 'b', undefined, 'a\r\nb\r\n'],
  ])('%s', (_name, text, line, match, expected) => {
    expect(withLine(text, line, match)).toBe(expected);
  });
});

describe('profiles.toml edits', () => {
  const file =
    '# my profiles\nactive = "local"\n\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n\n[profiles.selfhost]\n# the box\nPREFECT_API_URL = "http://old:4200/api"\nPREFECT_CLI_PROMPT = "false"\n';

  it('reads a table, with escapes', () => {
    expect(readTable(file, 'profiles.selfhost')).toEqual(
      new Map([
        ['PREFECT_API_URL', 'http://old:4200/api'],
        ['PREFECT_CLI_PROMPT', 'false'],
      ]),
    );
    expect(readTable('a = "x\\"y\\u0041"\n', '')).toEqual(new Map([['a', 'x"yA']]));
    expect(readTable(file, 'profiles.none')).toBeUndefined();
  });

  it('changes one key in place; other profiles, keys and comments stay', () => {
    const edited = setKeys(file, 'profiles.selfhost', new Map([['PREFECT_API_URL', 'http://new:4200/api']]));
    expect(edited).toBe(file.replace('http://old:4200/api', 'http://new:4200/api'));
  });

  it('adds a key to the end of its table, and a missing table at the end', () => {
    const added = setKeys(file, 'profiles.local', new Map([['PREFECT_X', '1']]));
    expect(added).toContain('PREFECT_API_URL = "http://127.0.0.1:4200/api"\nPREFECT_X = "1"\n\n[profiles.selfhost]');
    expect(setKeys(file, 'profiles.new', new Map([['K', 'v']]))).toBe(`${file}\n[profiles.new]\nK = "v"\n`);
    expect(setKeys('', 'profiles.new', new Map([['K', 'v']]))).toBe('[profiles.new]\nK = "v"\n');
  });

  it('puts a new top-level key before the first table', () => {
    expect(setKeys('[profiles.a]\nK = "v"\n', '', new Map([['active', 'a']]))).toBe('active = "a"\n\n[profiles.a]\nK = "v"\n');
    expect(setKeys(file, '', new Map([['active', 'selfhost']]))).toBe(file.replace('active = "local"', 'active = "selfhost"'));
  });
});

describe('shell quoting', () => {
  it.each([["it's"], ['$(rm -rf /)'], ['`id`'], ['a\nb'], ['-n'], [''], ['\u00e9\u4e2d']])('quotes %j as one literal word', (value) => {
    expect(quote(value)).toMatch(/^'.*'$/s);
    expect(quote(value).slice(1, -1).split(`'\\''`).join("'")).toBe(value);
  });

  it('refuses NUL, which no shell argument can carry', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
  });

  it('builds command lines from quoted words', () => {
    expect(command('echo', "a'b", '$x')).toBe(`'echo' 'a'\\''b' '$x'`);
  });
});
