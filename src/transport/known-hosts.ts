import { createHash, createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts, read by our own code because ssh2 accepts any host key unless told
 * otherwise. Honoured: plain and hashed (|1|salt|hash) host fields, [host]:port, wildcards and
 * negations, @revoked. Not trusted: @cert-authority (ssh2 cannot verify host certificates).
 */
export interface KnownHostsEntry {
  line: number;
  marker?: '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  key: string;
}

export type HostKeyVerdict =
  { trusted: true } | { trusted: false; reason: 'unknown' | 'changed' | 'revoked' | 'cert-authority-only'; entry?: KnownHostsEntry };

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? (fields.shift() as KnownHostsEntry['marker']) : undefined;
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return;
    entries.push({ line: index + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** The name known_hosts uses for a host: `address`, or `[address]:port` off port 22. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export function verifyHostKey(
  entries: KnownHostsEntry[],
  address: string,
  port: number,
  keyType: string,
  keyBase64: string,
): HostKeyVerdict {
  const name = hostPattern(address, port);
  const matching = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const revoked = matching.find((e) => e.marker === '@revoked' && e.key === keyBase64);
  if (revoked) return { trusted: false, reason: 'revoked', entry: revoked };
  const plain = matching.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.keyType === keyType && e.key === keyBase64)) return { trusted: true };
  // Another key of the same type on record means this one replaced it; a key of a type we have no
  // record of is unknown rather than changed, as in OpenSSH.
  const sameType = plain.find((e) => e.keyType === keyType);
  if (sameType) return { trusted: false, reason: 'changed', entry: sameType };
  const authority = matching.find((e) => e.marker === '@cert-authority');
  if (authority && plain.length === 0) return { trusted: false, reason: 'cert-authority-only', entry: authority };
  return { trusted: false, reason: 'unknown', entry: plain[0] };
}

/** ssh2's host key algorithms, in its default order of preference. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** known_hosts records an RSA key as ssh-rsa; the host signs with it under the SHA-2 names too. */
const algorithmsFor = (keyType: string) => (keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType]);

/**
 * The host key algorithms to offer, as OpenSSH orders them: those of the key types known_hosts
 * records for this host first, so a host that also has a key of another type shows the one on
 * record (an ECDSA entry is not "unknown" because the host prefers Ed25519); the rest after.
 */
export function hostKeyAlgorithms(entries: KnownHostsEntry[], address: string, port: number): string[] {
  const name = hostPattern(address, port);
  const known = new Set(
    entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).flatMap((e) => algorithmsFor(e.keyType)),
  );
  return [...HOST_KEY_ALGORITHMS.filter((a) => known.has(a)), ...HOST_KEY_ALGORITHMS.filter((a) => !known.has(a))];
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return patternListMatches(field.split(','), name);
}

/** OpenSSH's pattern lists (known_hosts, ssh_config Host): `*` and `?` wildcards; a matching `!pattern` vetoes. */
export function patternListMatches(patterns: string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(name);
}

/** `SHA256:…` as `ssh-keygen -l` prints it, so people can compare fingerprints. */
export function fingerprint(keyBase64: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
