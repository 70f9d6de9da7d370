import type { Diagnostic, FieldPath } from './diagnostic.js';
import type { Resource } from './generated/setup.js';
import type { HostTarget } from './target.js';

/** Variables by name, filled in: what `{{ name }}` stands for. */
export type Variables = Readonly<Record<string, string>>;

/** A secret's name and value, read on the control machine: kept out of every output. */
export interface Secret {
  name: string;
  value: string;
}

/** A resource as it applies to one host: variables filled in, name and dependencies known. */
export interface DeclaredResource {
  name: string;
  spec: Resource;
  /** Names of the resources this one needs converged first. */
  dependsOn: string[];
  /** Resources on other hosts it comes after (`after: [HOST:UNIT]`): apply waits for those hosts. */
  waitsFor?: HostResource[];
  /**
   * Resources on other hosts it notifies (`notifies: [HOST-OR-GROUP:UNIT]`), one per host: those hosts
   * wait for this one, and restart them when this resource changed.
   */
  notifiesElsewhere?: (HostResource & { notified: string })[];
}

/** A resource of another host, as `after: [HOST:UNIT]` names it (a group stands for each of its hosts). */
export interface HostResource {
  host: string;
  /** e.g. "prefect-server:prefect-server.service", for messages. */
  label: string;
  /** What the other host's resource provides, e.g. "unit:prefect-server.service". */
  token: string;
  /** How to name what is referred to, e.g. "a systemd_service" (the reference says). */
  what: string;
  /** Where setup.yaml names it. */
  at: FieldPath;
}

export interface HostSpec {
  target: HostTarget;
  /** The groups of hosts.yaml the host is in, directly or not. */
  groups: string[];
  vars: Variables;
  resources: DeclaredResource[];
}

/** Both spec files, loaded, validated and resolved for every host. */
export interface Spec {
  inventoryFile: string;
  setupFile: string;
  /** sha256 of both files' bytes: run records and saved plans name the spec they came from. */
  specHash: string;
  hosts: HostSpec[];
  /** Values to keep out of every output (see SecretMask). */
  secrets: Secret[];
  /** Likely mistakes that do not stop a run; said on stderr. */
  warnings: Diagnostic[];
}
