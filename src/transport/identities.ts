import { readFile } from 'node:fs/promises';
import ssh2, { type AnyAuthMethod, type ParsedKey, type SignCallback, type SigningRequestOptions } from 'ssh2';

const { BaseAgent, OpenSSHAgent, utils } = ssh2;

/** How to authenticate, in order, and why an identity file named for the host was left out. */
export interface Identities {
  methods: AnyAuthMethod[];
  /** Each method as -v names it: where the key comes from and what it is. */
  offered: string[];
  /** For the error when every method fails: e.g. an encrypted key that is not in the agent. */
  leftOut: string[];
}

export interface IdentityOptions {
  /** SSH_AUTH_SOCK, when an agent runs. */
  agentSocket?: string;
  /** IdentitiesOnly: of the agent's keys, only those of the identity files. */
  identitiesOnly?: boolean;
  /** Asks an encrypted key's passphrase (only given on a terminal); the answer is used once and dropped. */
  askPassphrase?: (file: string) => Promise<string>;
}

/** One of the agent's keys on its own, so that keys are tried in OpenSSH's order, not the agent's. */
class OneAgentKey extends BaseAgent<ParsedKey> {
  constructor(
    private readonly agent: InstanceType<typeof OpenSSHAgent>,
    private readonly key: ParsedKey,
  ) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }

  sign(pubKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    if (typeof options === 'function') this.agent.sign(pubKey, data, options);
    else this.agent.sign(pubKey, data, options, cb);
  }
}

interface IdentityFile {
  file: string;
  /** The key's public half (wire format), from FILE.pub or the unencrypted private key. */
  publicKey?: Buffer;
  /** The private key's text; absent when the file does not exist (ssh_config's defaults often do not). */
  privateText?: string;
}

/**
 * The authentication order of OpenSSH's ssh: identity files whose key the agent holds (used through
 * the agent), then the agent's other keys unless IdentitiesOnly, then the identity files the agent
 * does not hold, read from disk; an encrypted one is used only if its passphrase can be asked.
 */
export async function identities(username: string, files: string[], options: IdentityOptions): Promise<Identities> {
  const agent = options.agentSocket ? new OpenSSHAgent(options.agentSocket) : undefined;
  const agentKeys = agent ? await agentIdentities(agent) : [];
  const identityFiles = await Promise.all(files.map(readIdentityFile));
  const agentKeyOf = (f: IdentityFile) => agentKeys.find((k) => f.publicKey && k.getPublicSSH().equals(f.publicKey));
  const viaAgent = (key: ParsedKey): AnyAuthMethod => ({ type: 'agent', username, agent: new OneAgentKey(agent!, key) });

  const held = identityFiles.map(agentKeyOf).filter((k): k is ParsedKey => k !== undefined);
  const others = options.identitiesOnly ? [] : agentKeys.filter((k) => !held.includes(k));
  const methods = [...held, ...others].map(viaAgent);
  const offered = [...held, ...others].map((k) => `ssh-agent: ${keyName(k)}`);
  const leftOut: string[] = [];
  for (const f of identityFiles.filter((f) => f.privateText !== undefined && !agentKeyOf(f))) {
    const key = await privateKey(f, options, agent !== undefined);
    if (typeof key === 'string') leftOut.push(key);
    else {
      methods.push({ type: 'publickey', username, key });
      offered.push(`${f.file}: ${keyName(key)}`);
    }
  }
  // OpenSSH would offer nothing either; saying so beats "All configured authentication methods failed".
  if (methods.length === 0 && leftOut.length === 0) {
    const agentSays = agent ? 'ssh-agent holds no key' : 'no ssh-agent (SSH_AUTH_SOCK is not set)';
    const filesSay = files.length > 0 ? `none of ${files.join(', ')} exists` : 'no identity file is named';
    leftOut.push(`no key to offer: ${agentSays}, and ${filesSay}`);
  }
  return { methods, offered, leftOut };
}

const keyName = (key: ParsedKey) => `${key.type}${key.comment ? ` ${key.comment}` : ''}`;

async function privateKey(f: IdentityFile, options: IdentityOptions, agentRuns: boolean): Promise<ParsedKey | string> {
  const parsed = parsedOnce(f.privateText!);
  if (!(parsed instanceof Error)) return parsed;
  if (!/passphrase/i.test(parsed.message)) return `${f.file}: ${parsed.message}`;
  const notInAgent = `${f.file} is encrypted and its key is not in ssh-agent${agentRuns ? '' : ' (no agent: SSH_AUTH_SOCK is not set)'}; load it with ssh-add ${f.file}`;
  if (!options.askPassphrase) return `${notInAgent}, or run on a terminal to be asked its passphrase`;
  const unlocked = utils.parseKey(f.privateText!, await options.askPassphrase(f.file));
  return unlocked instanceof Error ? `${f.file}: the passphrase did not open it` : unlocked;
}

function agentIdentities(agent: InstanceType<typeof OpenSSHAgent>): Promise<ParsedKey[]> {
  // An agent that does not answer is as good as none: the identity files are still tried.
  return new Promise((resolve) => agent.getIdentities((error, keys) => resolve(error ? [] : ((keys ?? []) as ParsedKey[]))));
}

async function readIdentityFile(file: string): Promise<IdentityFile> {
  const privateText = await readFile(file, 'utf8').catch(() => undefined);
  const publicText = await readFile(`${file}.pub`, 'utf8').catch(() => undefined);
  const fromPublic = publicText === undefined ? undefined : parsedOnce(publicText);
  const fromPrivate = privateText === undefined ? undefined : parsedOnce(privateText);
  const key = [fromPublic, fromPrivate].find((k): k is ParsedKey => k !== undefined && !(k instanceof Error));
  return { file, privateText, publicKey: key?.getPublicSSH() };
}

/**
 * A key file's text parsed once per run, not once per host: parsing converts the key for Node's
 * crypto, a tenth of a connection's CPU. An encrypted key is kept as the error that asks for its
 * passphrase; the key it opens is not kept.
 */
const parsedKeys = new Map<string, ParsedKey | Error>();

function parsedOnce(text: string): ParsedKey | Error {
  if (!parsedKeys.has(text)) parsedKeys.set(text, utils.parseKey(text));
  return parsedKeys.get(text)!;
}
