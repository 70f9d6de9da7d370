import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint, hostKeyAlgorithms, parseKnownHosts, verifyHostKey } from '../../src/transport/known-hosts.js';

const KEY_A = Buffer.from('key-a').toString('base64');
const KEY_B = Buffer.from('key-b').toString('base64');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts verification', () => {
  it.each([
    ['a plain entry', `10.0.0.5 ssh-ed25519 ${KEY_A}`, 22, { trusted: true }],
    ['a hashed entry', `${hashed('10.0.0.5')} ssh-ed25519 ${KEY_A}`, 22, { trusted: true }],
    ['a [host]:port entry', `[10.0.0.5]:2222 ssh-ed25519 ${KEY_A}`, 2222, { trusted: true }],
    ['a hashed [host]:port entry', `${hashed('[10.0.0.5]:2222')} ssh-ed25519 ${KEY_A}`, 2222, { trusted: true }],
    ['a wildcard', `10.0.0.* ssh-ed25519 ${KEY_A}`, 22, { trusted: true }],
    ['a comma list', `web,10.0.0.5 ssh-ed25519 ${KEY_A}`, 22, { trusted: true }],
    ['a port-22 entry for another port', `10.0.0.5 ssh-ed25519 ${KEY_A}`, 2222, { trusted: false, reason: 'unknown' }],
    ['a negated pattern', `10.0.0.*,!10.0.0.5 ssh-ed25519 ${KEY_A}`, 22, { trusted: false, reason: 'unknown' }],
    ['another key of the same type', `10.0.0.5 ssh-ed25519 ${KEY_B}`, 22, { trusted: false, reason: 'changed' }],
    ['a key of another type only', `10.0.0.5 ssh-rsa ${KEY_B}`, 22, { trusted: false, reason: 'unknown' }],
    ['a revoked key', `@revoked 10.0.0.5 ssh-ed25519 ${KEY_A}\n10.0.0.5 ssh-ed25519 ${KEY_A}`, 22, { trusted: false, reason: 'revoked' }],
    ['only a cert-authority line', `@cert-authority 10.0.0.* ssh-ed25519 ${KEY_B}`, 22, { trusted: false, reason: 'cert-authority-only' }],
    ['nothing', '# empty\n', 22, { trusted: false, reason: 'unknown' }],
  ])('%s', (_name, text, port, expected) => {
    expect(verifyHostKey(parseKnownHosts(text), '10.0.0.5', port, 'ssh-ed25519', KEY_A)).toMatchObject(expected);
  });

  it('names the line of the entry that disagrees', () => {
    const verdict = verifyHostKey(
      parseKnownHosts(`# comment\nother ssh-ed25519 ${KEY_A}\n10.0.0.5 ssh-ed25519 ${KEY_B}\n`),
      '10.0.0.5',
      22,
      'ssh-ed25519',
      KEY_A,
    );
    expect(verdict).toMatchObject({ trusted: false, reason: 'changed', entry: { line: 3 } });
  });

  it('prints fingerprints as ssh-keygen -l does', () => {
    expect(fingerprint(KEY_A)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it.each([
    [
      'nothing on record: the default order',
      '',
      ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    ],
    [
      'an ECDSA entry',
      `10.0.0.5 ecdsa-sha2-nistp256 ${KEY_A}`,
      ['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    ],
    [
      'an RSA entry (signed with SHA-2 too)',
      `${hashed('10.0.0.5')} ssh-rsa ${KEY_A}`,
      ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'],
    ],
    [
      'RSA and ECDSA, in the default order among them',
      `10.0.0.5 ssh-rsa ${KEY_A}\n10.0.0.5 ecdsa-sha2-nistp256 ${KEY_B}`,
      ['ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'],
    ],
    [
      "another host's entry, a revoked key",
      `10.0.0.6 ssh-rsa ${KEY_A}\n@revoked 10.0.0.5 ssh-rsa ${KEY_B}`,
      ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    ],
  ])('offers host key algorithms as OpenSSH orders them: %s', (_name, text, expected) => {
    expect(hostKeyAlgorithms(parseKnownHosts(text), '10.0.0.5', 22)).toEqual(expected);
  });
});
