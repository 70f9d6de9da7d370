import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostTarget } from '../../src/model/target.js';
import { SshTransport } from '../../src/transport/ssh.js';

// Real sockets on this machine, each failing the way a network does: nothing listening, a name that
// does not resolve, a port that accepts and stays silent, one that hangs up at once.
const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function listening(onConnection: (socket: import('node:net').Socket) => void): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const target = (address: string, port: number): HostTarget => ({
  name: 'h',
  address,
  port,
  user: 'ops',
  identityFiles: [],
  identitiesOnly: true,
  knownHosts: '/nonexistent/known_hosts',
  become: false,
  connection: 'ssh',
  connectTimeoutMs: 1500,
});

const failure = (t: HostTarget) =>
  SshTransport.connect(t).then(
    () => 'connected',
    (error: unknown) => (error as Error).message,
  );

describe('a connection that fails says so in words, with the address and what to check', () => {
  it('nothing listens', async () => {
    const closed = await listening(() => {});
    servers.pop()!.close();
    expect(await failure(target('127.0.0.1', closed))).toBe(
      `h: 127.0.0.1:${closed} refused the connection: no SSH server listens there (is sshd running, is the port right?)`,
    );
  });

  it('a name that does not resolve', async () => {
    expect(await failure(target('no-such-host.invalid', 22))).toContain('the name no-such-host.invalid does not resolve');
  });

  it('a port that accepts and never speaks SSH', async () => {
    const silent = await listening(() => {});
    const message = await failure(target('127.0.0.1', silent));
    expect(message).toContain(`127.0.0.1:${silent} accepted the connection but no SSH handshake finished within 2s`);
    expect(message).not.toMatch(/Timed out while waiting/);
  });

  it('a port that hangs up at once', async () => {
    const rude = await listening((socket) => socket.destroy());
    expect(await failure(target('127.0.0.1', rude))).toContain(`127.0.0.1:${rude} closed the connection before the SSH handshake`);
  });
});
