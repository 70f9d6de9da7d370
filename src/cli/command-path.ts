import type { Command } from 'commander';

/** A command as a user names it: `plan`, `history show`, `schedule install`; '' for the bare command. */
export type CommandPath = string;

export const commandPath = (command: Command): CommandPath => {
  const names: string[] = [];
  for (let c: Command | null = command; c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
};
