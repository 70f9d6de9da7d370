import { homedir } from 'node:os';

/** A leading `~` (alone or before a `/`) as the shell and ssh read it: this user's home directory. */
export function expandHome(path: string): string {
  return path.replace(/^~(?=\/|$)/, homedir());
}
