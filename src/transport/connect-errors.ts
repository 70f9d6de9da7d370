import type { HostTarget } from '../model/target.js';

/** What is known of a failed connection besides the error: how far it got. */
export interface ConnectAttempt {
  /** The TCP connection to sshd was made (so a timeout came after it: no SSH, or a hung login). */
  tcpConnected: boolean;
  /** Why keys were not offered (see Identities.leftOut). */
  leftOut: string[];
  /** What the TCP socket itself reported (ssh2 may report only that the connection was lost). */
  socketError?: NodeJS.ErrnoException;
}

/**
 * A failed connection in plain words: what happened, at which address, and what to check. Node's
 * and ssh2's own words (ECONNREFUSED, "Timed out while waiting for handshake", "All configured
 * authentication methods failed") name the symptom, not the cause an operator can act on.
 */
export function plainConnectError(error: Error & { code?: string; level?: string }, target: HostTarget, attempt: ConnectAttempt): string {
  const where = `${target.address}:${target.port}`;
  const seconds = Math.round(target.connectTimeoutMs / 1000);
  const keys = attempt.leftOut.length > 0 ? ` (${attempt.leftOut.join('; ')})` : '';
  switch (error.code ?? attempt.socketError?.code) {
    case 'ECONNREFUSED':
      return `${where} refused the connection: no SSH server listens there (is sshd running, is the port right?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name ${target.address} does not resolve: check the address in hosts.yaml or ssh_config's HostName`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${target.address}: is the host up, and its network reachable from here?`;
    case 'ECONNRESET':
      return `${where} reset the connection: something between here and sshd (a firewall, a proxy) cut it`;
  }
  if (error.message.includes('Timed out while waiting for handshake')) {
    return attempt.tcpConnected
      ? `${where} accepted the connection but no SSH handshake finished within ${seconds}s: is it an SSH server, and is it overloaded?`
      : `no answer from ${where} within ${seconds}s: is the host up, and does a firewall drop port ${target.port}? (--timeout or connect_timeout to wait longer)`;
  }
  if (error.message.includes('Connection lost before handshake') && !attempt.tcpConnected)
    return `could not reach ${where}: is the host up, and does a firewall drop port ${target.port}?`;
  if (error.message.includes('Connection lost before handshake'))
    return `${where} closed the connection before the SSH handshake: not an SSH server, or sshd turned us away (MaxStartups, a TCP wrapper)`;
  if (error.level === 'client-authentication' || error.message.includes('authentication methods failed'))
    return `${target.user}@${where} accepted none of the keys offered: is the public key in ~${target.user}/.ssh/authorized_keys on the host, and is the user right?${keys}`;
  return `cannot connect to ${target.user}@${where}: ${error.message}${keys}`;
}
