/**
 * Heredocs as instructions use them: recognising a heredoc word among the arguments, `<<-`
 * tab stripping, and what a RUN with heredocs actually executes.
 */
import { posix } from 'node:path';
import { heredocFromWord } from '../parser/heredoc.js';
import { fromBinary } from '../parser/gostring.js';
import type { CommandLine } from './types.js';

export interface HeredocWord {
  readonly name: string;
  readonly expand: boolean;
  readonly chomp: boolean;
}

/** The heredoc an argument word introduces (`<<EOF`, `<<-"EOF"`, `3<<EOF`), if it is one. */
export function heredocWord(word: string): HeredocWord | undefined {
  try {
    const h = heredocFromWord(word);
    return h === undefined ? undefined : { name: fromBinary(h.name), expand: h.expand, chomp: h.chomp };
  } catch {
    return undefined; // BuildKit ignores words it cannot lex here
  }
}

/** `<<-`: remove the leading tabs of every line (lines end at "\n" only, as in Go). */
export function chompHeredoc(data: string): string {
  return data.replace(/(^|\n)\t+/g, '$1');
}

/** What a RUN runs once its heredocs are taken into account. */
export type RunCommandPlan =
  /** No heredocs: `args` as parsed (still to be prefixed with the shell when shell form). */
  | { readonly kind: 'plain'; readonly args: readonly string[] }
  /**
   * `RUN <<EOF` whose body starts with `#!`: the body becomes an executable file (mode 0755)
   * `name` in a read-only mount at /dev/pipes/, and the command is its path (then, as shell
   * form, prefixed with the shell like any other).
   */
  | { readonly kind: 'script'; readonly name: string; readonly data: string; readonly path: string; readonly args: readonly string[] }
  /** `RUN <<EOF` without shebang: the (chomped) body is the shell command. */
  | { readonly kind: 'inline'; readonly args: readonly string[] }
  /** Heredocs within a longer command: the command line with the bodies and terminators after it, for the shell. */
  | { readonly kind: 'shell'; readonly args: readonly string[] };

/** The mount point of a heredoc script. */
export const HEREDOC_SCRIPT_DIR = '/dev/pipes/';

/**
 * Resolve a RUN's heredocs the way BuildKit does when converting it. `targetOS` is the
 * image's OS: a shebang body is only made into a script when it is not "windows".
 * Returns an error message (BuildKit's) when the parse produced an impossible combination.
 */
export function planRunCommand(cmd: CommandLine, targetOS: string): RunCommandPlan | { readonly error: string } {
  const first = cmd.files[0];
  if (first === undefined) return { kind: 'plain', args: cmd.args };
  if (cmd.args.length !== 1 || !cmd.prependShell) {
    return { error: `parsing produced an invalid run command: [${cmd.args.join(' ')}]` };
  }
  const line = cmd.args[0]!;
  if (heredocWord(line) !== undefined) {
    const data = first.chomp ? chompHeredoc(first.data) : first.data;
    if (targetOS !== 'windows' && data.startsWith('#!')) {
      const path = posix.join(HEREDOC_SCRIPT_DIR, first.name);
      return { kind: 'script', name: first.name, data, path, args: [path] };
    }
    return { kind: 'inline', args: [data] };
  }
  let text = line;
  for (const f of cmd.files) text += '\n' + f.data + f.name;
  return { kind: 'shell', args: [text] };
}
