import type { Command, Option } from 'commander';
import { commandPath, type CommandPath } from './command-path.js';

/**
 * Shell completion scripts, written from the program itself (its commands, and the options each
 * one's help lists), so they cannot disagree with it. Host and group names for --limit come from
 * the inventory when the user presses Tab (`reconcile completion names`, with the -i on the line).
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What the word after an option is: a file, a directory, host and group names, or a value nobody can guess. */
type ValueKind = 'file' | 'directory' | 'names' | 'value';

const VALUE_KINDS: Record<string, ValueKind> = {
  inventory: 'file',
  file: 'file',
  metricsFile: 'file',
  out: 'file',
  stateDir: 'directory',
  limit: 'names',
};

/** Arguments whose value a shell can complete: apply's saved plan, init's directory. */
const ARGUMENT_KINDS: Record<string, ValueKind> = { plan: 'file', dir: 'directory' };

interface CommandEntry {
  path: CommandPath;
  /** Words that may follow: subcommands, or the choices of its argument. */
  words: string[];
  options: string[];
  /** What a bare argument is, when not one of `words`. */
  argument?: ValueKind;
}

interface ValuedOption {
  flags: string[];
  kind: ValueKind;
}

const flagsOf = (o: Option) => [o.short, o.long].filter((f): f is string => f !== undefined);

/** Every command with what may follow it; the program's own help decides which options apply. */
function commandEntries(program: Command): CommandEntry[] {
  const help = program.createHelp();
  const entries: CommandEntry[] = [];
  const walk = (command: Command) => {
    const args = command.registeredArguments;
    const choices = args[0]?.argChoices ?? [];
    const options = [...help.visibleOptions(command), ...help.visibleGlobalOptions(command)].flatMap(flagsOf);
    entries.push({
      path: commandPath(command),
      words: [...command.commands.map((c) => c.name()), ...(command.parent === null ? ['help'] : []), ...choices],
      options: [...new Set(options)],
      ...(args[0] && ARGUMENT_KINDS[args[0].name()] ? { argument: ARGUMENT_KINDS[args[0].name()] } : {}),
    });
    command.commands.forEach(walk);
  };
  walk(program);
  // `reconcile help COMMAND`
  entries.push({ path: 'help', words: program.commands.map((c) => c.name()), options: [] });
  return entries;
}

function valuedOptions(program: Command): ValuedOption[] {
  const all = [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)].flatMap((c) => c.options);
  return all
    .filter((o) => o.required || o.optional)
    .map((o) => ({ flags: flagsOf(o), kind: VALUE_KINDS[o.attributeName()] ?? 'value' }))
    .filter((o, i, list) => list.findIndex((other) => other.flags.join() === o.flags.join()) === i);
}

export function completionScript(shell: Shell, program: Command): string {
  const entries = commandEntries(program);
  const valued = valuedOptions(program);
  return shell === 'fish' ? fishScript(entries, valued) : bashScript(shell, entries, valued);
}

function bashScript(shell: 'bash' | 'zsh', entries: CommandEntry[], valued: ValuedOption[]): string {
  const arm = (pick: (e: CommandEntry) => string) =>
    entries.map((e) => `    ${JSON.stringify(e.path)}) echo ${JSON.stringify(pick(e))} ;;`).join('\n');
  const flagsOfKind = (kind: ValueKind) => valued.filter((o) => o.kind === kind).flatMap((o) => o.flags);
  const patterns = (kind: ValueKind) => flagsOfKind(kind).join('|') || '--no-such-option';
  const argumentArm = entries
    .filter((e) => e.argument)
    .map((e) => `    ${JSON.stringify(e.path)}) COMPREPLY=($(compgen -${e.argument === 'directory' ? 'd' : 'f'} -- "$cur")) ;;`)
    .join('\n');
  return `# ${shell} completion for reconcile: eval "$(reconcile completion ${shell})", e.g. in ~/.${shell}rc
${shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}_reconcile_words() {
  case "$1" in
${arm((e) => e.words.join(' '))}
  esac
}
_reconcile_options() {
  case "$1" in
${arm((e) => e.options.join(' '))}
  esac
}
# Host and group names of the inventory the line names with -i (else the one reconcile would find).
_reconcile_names() {
  local i inventory=()
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    case "\${COMP_WORDS[i]}" in -i|--inventory) inventory=(-i "\${COMP_WORDS[i+1]}") ;; esac
  done
  "\${COMP_WORDS[0]}" completion names "\${inventory[@]}" 2>/dev/null
}
_reconcile() {
  # zsh (through bashcompinit): arrays from 0 as in bash; cmd, not path, which zsh ties to PATH.
  [ -n "\${ZSH_VERSION:-}" ] && setopt localoptions ksharrays
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" word i skip=0
  COMPREPLY=()
  # The command so far: the words that are commands, past options and their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$word" in
      ${valued.flatMap((o) => o.flags).join('|')}) skip=1; continue ;;
      -*) continue ;;
    esac
    case " $(_reconcile_words "$cmd") " in *" $word "*) cmd="\${cmd:+$cmd }$word" ;; esac
  done
  case "$prev" in
    ${patterns('file')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    ${patterns('directory')}) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    ${patterns('names')})
      # A comma-separated list: complete its last name.
      local done_names=""
      case "$cur" in *,*) done_names="\${cur%,*}," ;; esac
      COMPREPLY=($(compgen -P "$done_names" -W "$(_reconcile_names)" -- "\${cur##*,}"))
      return ;;
    ${patterns('value')}) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_reconcile_options "$cmd")" -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -W "$(_reconcile_words "$cmd")" -- "$cur"))
  [ \${#COMPREPLY[@]} -gt 0 ] && return
  case "$cmd" in
${argumentArm}
  esac
}
complete -F _reconcile reconcile
`;
}

function fishScript(entries: CommandEntry[], valued: ValuedOption[]): string {
  const lines = [
    '# fish completion for reconcile: reconcile completion fish > ~/.config/fish/completions/reconcile.fish',
    '# The command so far: the words that are commands, past options and their values.',
    'function __reconcile_path',
    '    set -l tokens (commandline -opc)',
    '    set -l cmd',
    '    set -l skip 0',
    '    for word in $tokens[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    `        if contains -- $word ${valued.flatMap((o) => o.flags).join(' ')}`,
    '            set skip 1',
    '        else if not string match -q -- "-*" $word',
    '            if contains -- $word (__reconcile_words (string join " " $cmd))',
    '                set -a cmd $word',
    '            end',
    '        end',
    '    end',
    '    string join " " $cmd',
    'end',
    'function __reconcile_words',
    '    switch "$argv[1]"',
    ...entries.flatMap((e) => [`        case ${fishWord(e.path)}`, `            printf "%s\\n" ${e.words.join(' ')}`]),
    '    end',
    'end',
    'function __reconcile_options',
    '    switch "$argv[1]"',
    ...entries.flatMap((e) => [`        case ${fishWord(e.path)}`, `            printf "%s\\n" ${e.options.join(' ')}`]),
    '    end',
    'end',
    '# Host and group names of the inventory the line names with -i; a comma-separated list completes its last name.',
    'function __reconcile_names',
    '    set -l tokens (commandline -opc)',
    '    set -l inventory',
    '    for i in (seq (count $tokens))',
    '        if contains -- $tokens[$i] -i --inventory; and test $i -lt (count $tokens)',
    '            set inventory -i $tokens[(math $i + 1)]',
    '        end',
    '    end',
    '    set -l done_names (string match -r "^.*," -- (commandline -ct))',
    '    for name in ($tokens[1] completion names $inventory 2>/dev/null)',
    '        printf "%s%s\\n" "$done_names" $name',
    '    end',
    'end',
    'complete -c reconcile -f',
    `complete -c reconcile -n 'not string match -q -- "-*" (commandline -ct)' -a '(__reconcile_words (__reconcile_path))'`,
    `complete -c reconcile -n 'string match -q -- "-*" (commandline -ct)' -a '(__reconcile_options (__reconcile_path))'`,
    ...valued.map((o) => {
      const flag = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      const value = {
        file: '-r -F',
        directory: "-r -x -a '(__fish_complete_directories)'",
        names: "-x -a '(__reconcile_names)'",
        value: '-x',
      }[o.kind];
      return `complete -c reconcile ${flag} ${value}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

const fishWord = (path: string) => (path === '' ? "''" : `'${path}'`);
