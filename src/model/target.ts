/** How to reach one host, with every default filled in. */
export interface HostTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Tried in this order after the agent's keys for them (see transport/identities.ts). */
  identityFiles: string[];
  /** Of the agent's keys, offer only those of identityFiles. */
  identitiesOnly: boolean;
  /** ServerAliveInterval: a keepalive every so many seconds, so a dead connection is noticed. */
  keepaliveSeconds?: number;
  knownHosts: string;
  become: boolean;
  /** The login user's sudo password (a secret, or asked with --ask-become-pass); sent on sudo's stdin only. */
  becomePassword?: string;
  connection: 'ssh' | 'local';
  connectTimeoutMs: number;
  /** The hosts connected through first, in order (ProxyJump); each a target of its own. */
  jumps?: HostTarget[];
}
