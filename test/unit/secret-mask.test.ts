import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretMask } from '../../src/report/mask.js';

const key = Buffer.alloc(32, 7);
const marker = /\[secret:(\w+) #([0-9a-f]{8})\]/;

describe('SecretMask', () => {
  const mask = new SecretMask(
    [
      { name: 'short', value: 'hunter22' },
      { name: 'long', value: 'hunter22-and-more' },
    ],
    key,
  );

  it('masks every occurrence, the longer of two overlapping secrets whole', () => {
    const masked = mask.text('a=hunter22 b=hunter22-and-more c=hunter22');
    expect(masked).not.toContain('hunter22');
    expect(masked.match(/\[secret:short /g)).toHaveLength(2);
    expect(masked.match(/\[secret:long /g)).toHaveLength(1);
  });

  it('gives the same value the same hash and another value another hash, keyed per machine', () => {
    const a = marker.exec(mask.text('hunter22'))!;
    expect(marker.exec(mask.text('x hunter22 y'))![2]).toBe(a[2]);
    expect(marker.exec(new SecretMask([{ name: 'short', value: 'hunter22' }], Buffer.alloc(32, 8)).text('hunter22'))![2]).not.toBe(a[2]);
  });

  it('masks the value in the same place on the host side, which nothing here knows', () => {
    const [before, after] = mask.pair('keep=1\nKEY="old-secret-value"\nend\n', 'keep=1\nKEY="hunter22"\nend\n');
    expect(before).toMatch(/^keep=1\nKEY="\[secret:short #[0-9a-f]{8}\]"\nend\n$/);
    expect(before).not.toContain('old-secret-value');
    expect(after).toMatch(/^keep=1\nKEY="\[secret:short #[0-9a-f]{8}\]"\nend\n$/);
    expect(marker.exec(before!)![2]).not.toBe(marker.exec(after!)![2]);
  });

  it('masks every host line when the secret is a whole line (nothing around it to match on)', () => {
    const [before] = mask.pair('first\nsecond', 'hunter22');
    expect(before).toMatch(/^\[secret:short #\w+\]\n\[secret:short #\w+\]$/);
  });

  it('leaves pairs without secrets alone and masks base64 stdin by bytes, UTF-8 secrets included', () => {
    expect(mask.pair('a', 'b')).toEqual(['a', 'b']);
    const unicode = new SecretMask([{ name: 'pin', value: 'pässwörd-☃' }], key);
    const step = unicode.deep({
      stdinBase64: Buffer.from('x=pässwörd-☃\n').toString('base64'),
      fields: [{ field: 'f', before: null, after: 'pässwörd-☃' }],
    });
    expect(Buffer.from(step.stdinBase64, 'base64').toString()).toMatch(/^x=\[secret:pin #\w{8}\]\n$/);
    expect(step.fields[0]!.after).toMatch(marker);
  });

  it('never lets a secret through, whatever surrounds it (property)', () => {
    const secret = fc
      .string({ minLength: 8, maxLength: 40, unit: 'grapheme' })
      .filter((s) => !'[secret:s #0123456789abcdef]'.includes(s) && s.trim() === s && !s.includes('\n'));
    fc.assert(
      fc.property(
        secret,
        fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 4 }),
        fc.string({ unit: 'grapheme' }),
        (value, around, old) => {
          const m = new SecretMask([{ name: 's', value }], key);
          const text = around.join(value);
          const [before, after] = m.pair(around.join(old), text);
          expect(m.text(text).includes(value)).toBe(false);
          expect(after!.includes(value)).toBe(false);
          expect(before!.includes(value)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
