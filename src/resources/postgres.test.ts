import { describe, expect, it } from 'vitest';
import { clusterProbe, parseCluster, scramVerifier, verifierLiteral, verifierMatches } from './postgres.js';

describe('PostgreSQL helpers', () => {
  it('a verifier made here matches its password, and no other', () => {
    const verifier = scramVerifier('s3cr3t/p@ss:w$rd!');
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(verifierMatches('s3cr3t/p@ss:w$rd!', verifier)).toBe(true);
    expect(verifierMatches('s3cr3t/p@ss:w$rd?', verifier)).toBe(false);
    // A new salt each time: the same password makes another verifier, which still matches.
    expect(scramVerifier('x')).not.toBe(scramVerifier('x'));
  });

  it('matches a verifier PostgreSQL 15 made itself (SET password_encryption = scram-sha-256; CREATE ROLE ... PASSWORD)', () => {
    expect(verifierMatches(POSTGRES_PASSWORD, POSTGRES_VERIFIER)).toBe(true);
    expect(verifierMatches(`${POSTGRES_PASSWORD} `, POSTGRES_VERIFIER)).toBe(false);
  });

  it('an MD5 password, or none, matches nothing, so it is replaced', () => {
    expect(verifierMatches('pencil', 'md5a7b1b3d5c1b3e1f9c0d2e4f6a8b0c2d4')).toBe(false);
    expect(verifierMatches('pencil', '')).toBe(false);
  });

  it('puts only a well-formed verifier into SQL', () => {
    expect(verifierLiteral(scramVerifier('x'))).toMatch(/^'SCRAM-SHA-256\$.*'$/);
    expect(() => verifierLiteral("x'; DROP ROLE postgres; --")).toThrow('not a SCRAM-SHA-256 verifier');
  });

  it('passes values to psql as quoted variables, never inside the SQL text', () => {
    const probe = clusterProbe(5432, { role: "o'brien; $(reboot)" }, "SELECT :'role';");
    expect(probe).toContain(`-v role='o'\\''brien; $(reboot)'`);
    expect(probe).toContain("<<'RC_SQL'\nSELECT :'role';\nRC_SQL");
  });

  it('reads what the probe printed', () => {
    expect(parseCluster('postgres=absent\n')).toEqual({ state: 'absent' });
    expect(parseCluster('postgres=down psql: error: connection to server on socket failed\n')).toEqual({
      state: 'down',
      why: 'psql: error: connection to server on socket failed',
    });
    const up = parseCluster('postgres=up\nrole=true SCRAM-SHA-256$4096:a$b:c\n');
    expect(up.state === 'up' && up.rows.get('role')).toBe('true SCRAM-SHA-256$4096:a$b:c');
  });
});

// Made on a test host by PostgreSQL 15.18 (Debian's postgresql-15), not by reconcile.
const POSTGRES_PASSWORD = 'pencil-from-postgres';
const POSTGRES_VERIFIER =
  'SCRAM-SHA-256$4096:SDT9ZBTCrlxrhFhayXdCJA==$KH3l1XKrNrvel6CRVGVvWUJl3JdreqEO/ew5PI5seEw=:EfUV1PiiFLHtWIr9UzGiDIoUxndKg0giqNA52JdwoKs=';
