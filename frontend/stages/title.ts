/**
 * What progress shows for a step that makes a vertex (RUN, COPY, ADD, WORKDIR), as BuildKit
 * words it: the source line with the variables in scope expanded and the keyword in upper case.
 * RUN keeps its quotes and unset variables as written, shows a variable that a secret mount
 * sets (`env=`) as `****`, and a single heredoc's first line after it.
 */
import { goTrimSpace, planRunCommand } from '../instructions/index.js';
import type { Instruction } from '../instructions/types.js';
import { Lex, type EnvLookup, type EscapeToken } from '../shell/index.js';
import type { PlannedMount } from './types.js';

/** The vertex text of a step, or undefined for instructions that make no vertex. */
export function stepTitle(
  ins: Instruction,
  env: EnvLookup,
  escape: EscapeToken,
  mounts: readonly PlannedMount[] = [],
  targetOS = 'linux',
): string | undefined {
  switch (ins.kind) {
    case 'run': {
      let text = ins.original;
      const planned = planRunCommand(ins, targetOS);
      if ('kind' in planned && (planned.kind === 'script' || planned.kind === 'inline')) {
        text += ` (${summarizeHeredoc(ins.files[0]!.data)})`;
      }
      const lex = new Lex(escape, { rawQuotes: true, skipUnsetEnv: true });
      return upperKeyword(expandOrKeep(lex, text, withSecretMask(env, mounts)));
    }
    case 'copy':
    case 'add':
    case 'workdir':
      return upperKeyword(expandOrKeep(new Lex(escape), ins.original, env));
    default:
      return undefined;
  }
}

/** BuildKit falls back to the line as written when it does not expand. */
function expandOrKeep(lex: Lex, text: string, env: EnvLookup): string {
  try {
    return lex.processWord(text, env);
  } catch {
    return text;
  }
}

function upperKeyword(text: string): string {
  const sp = text.indexOf(' ');
  return sp < 0 ? text.toUpperCase() : text.slice(0, sp).toUpperCase() + text.slice(sp);
}

/** A variable set from a secret reads as `****` (to show where the value comes from). */
function withSecretMask(env: EnvLookup, mounts: readonly PlannedMount[]): EnvLookup {
  const masked = new Set(mounts.flatMap(({ mount }) => (mount.type === 'secret' && mount.env !== undefined ? [mount.env] : [])));
  if (masked.size === 0) return env;
  return { get: (k) => (masked.has(k) ? '****' : env.get(k)) };
}

/** A heredoc's first line, with `...` when it has more. */
function summarizeHeredoc(doc: string): string {
  const lines = goTrimSpace(doc).replaceAll('\r\n', '\n').split('\n');
  return lines.length > 1 ? `${lines[0]!}...` : lines[0]!;
}
