/* Generated from schemas/hosts.schema.json by scripts/gen-types.mjs; do not edit. Run: npm run gen:types */

/**
 * One hop: a name from jump_hosts or hosts, or [user@]host[:port].
 *
 * This interface was referenced by `ReconcileInventoryHostsYaml`'s JSON-Schema
 * via the `definition` "jump_hop".
 */
export type JumpHop = string;
/**
 * A host connected through on the way to others, never reconciled itself: its address and connection settings (defaults apply, except jump).
 *
 * This interface was referenced by `ReconcileInventoryHostsYaml`'s JSON-Schema
 * via the `definition` "jump_host".
 */
export type JumpHost = Connection & {
  /**
   * Host name, IP address or a Host alias of ssh_config to connect to. The variable {{ address }} is what reconcile connects to (an alias's HostName); it is also the default of prefect_host.
   */
  address: string;
};
/**
 * One host: its address, connection settings (each overrides defaults) and variables.
 *
 * This interface was referenced by `ReconcileInventoryHostsYaml`'s JSON-Schema
 * via the `definition` "host".
 */
export type Host = Connection & {
  /**
   * Host name, IP address or a Host alias of ssh_config to connect to. The variable {{ address }} is what reconcile connects to (an alias's HostName); it is also the default of prefect_host.
   */
  address: string;
  /**
   * Variables for this host, used in setup.yaml as {{ name }}. They override group_vars and setup.yaml's vars. Another host's are {{ hosts.NAME.name }} (with address and host_name).
   */
  vars?: {
    /**
     * A variable's value: a string, number or boolean.
     */
    [k: string]: string | number | boolean;
  };
};
/**
 * A POSIX user name.
 *
 * This interface was referenced by `ReconcileInventoryHostsYaml`'s JSON-Schema
 * via the `definition` "user_name".
 */
export type UserName = string;

/**
 * Which hosts reconcile manages and how to reach each of them.
 */
export interface ReconcileInventoryHostsYaml {
  /**
   * Optional schema reference for editors; ignored by reconcile.
   */
  $schema?: string;
  /**
   * Connection settings every host inherits unless it sets its own.
   */
  defaults?: Connection;
  /**
   * Bastions and other hosts that others are reached through (see jump), by name.
   */
  jump_hosts?: {
    [k: string]: JumpHost;
  };
  /**
   * The hosts, by inventory name. The name is what --limit and reports use.
   */
  hosts: {
    [k: string]: Host;
  };
  /**
   * Named groups: NAME: [host or group names]. A group may hold groups (never itself, directly or not). setup.yaml's hosts:, --limit and the reports take group names like host names.
   */
  groups?: {
    /**
     * The group's members: host names and group names.
     *
     * @minItems 1
     */
    [k: string]: [string, ...string[]];
  };
  /**
   * Variables for the hosts of a group, by group name. Precedence, lowest first: setup.yaml's vars; group_vars, a group that holds the host through another group before the group that names the host itself (among equals, in the order of groups); the host's own vars; the built-ins address, host_name and groups.
   */
  group_vars?: {
    /**
     * Variables for this host, used in setup.yaml as {{ name }}. They override group_vars and setup.yaml's vars. Another host's are {{ hosts.NAME.name }} (with address and host_name).
     */
    [k: string]: {
      /**
       * A variable's value: a string, number or boolean.
       */
      [k: string]: string | number | boolean;
    };
  };
}
/**
 * How to connect to a host and run commands there (shared by defaults and each host).
 *
 * This interface was referenced by `ReconcileInventoryHostsYaml`'s JSON-Schema
 * via the `definition` "connection".
 */
export interface Connection {
  /**
   * Login user on the host. Default: the user running reconcile.
   */
  user?: string;
  /**
   * SSH port. Default 22.
   */
  port?: number;
  /**
   * Private key file for login ('~' is the control machine's home). It is used through ssh-agent (SSH_AUTH_SOCK) when the agent holds its key (its FILE.pub tells which), so a passphrase-protected key works as with ssh. Default: ssh_config's IdentityFile list (ssh's defaults such as ~/.ssh/id_ed25519), after the agent's keys.
   */
  identity_file?: string;
  /**
   * known_hosts file the host key is checked against ('~' allowed). Default ~/.ssh/known_hosts. Unknown and changed keys are refused.
   */
  known_hosts?: string;
  /**
   * OpenSSH client config, resolved by `ssh -G` exactly as ssh resolves it (Include, Match, wildcards, %-tokens, defaults): it fills in what hosts.yaml leaves out (HostName, so address may be an alias; User, Port, IdentityFile, IdentitiesOnly, UserKnownHostsFile, ProxyJump, ConnectTimeout, ServerAliveInterval). Default: what ssh reads (~/.ssh/config and /etc/ssh/ssh_config). Without an ssh binary, reconcile reads this file itself (Host blocks and HostName, User, Port, IdentityFile, UserKnownHostsFile only). Values in hosts.yaml win.
   */
  ssh_config?: string;
  /**
   * Jump host(s) to connect through, in order, like ssh's ProxyJump: each the name of an entry of jump_hosts (or of hosts), or [user@]host[:port], which ssh_config then completes like any host. Each hop's host key is checked against its known_hosts; one connection to a hop serves every host behind it in a run. Overrides ssh_config's ProxyJump.
   */
  jump?: JumpHop | [JumpHop, ...JumpHop[]];
  /**
   * Run privileged steps as root through sudo. Without a password (become_password_secret or --ask-become-pass) sudo must not ask for one ('sudo -n'). Default false.
   */
  become?: boolean;
  /**
   * The name of a secret declared in setup.yaml's secrets: the login user's sudo password. It reaches sudo on its standard input only (never a command line, an output or a record); a wrong one fails the host at once, after one attempt. --ask-become-pass overrides it.
   */
  become_password_secret?: string;
  /**
   * 'ssh' (default) connects over SSH; 'local' runs the same scripts on this machine without SSH (for address localhost).
   */
  connection?: 'ssh' | 'local';
  /**
   * Seconds to wait for the SSH connection before the host is reported unreachable. Default 10.
   */
  connect_timeout?: number;
}
