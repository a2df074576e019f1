/**
 * Masking: the `::add-mask::` commands that make the runner hide values in the log, and the
 * text the action prints first (those commands, then the command line). Secret values travel
 * in the build's environment, not in its arguments, except what a user writes into a spec.
 */
import type { BuildCommand } from './command.js';
import { maskCommand } from './workflow.js';

/**
 * One `::add-mask::` line per value, and per line of a multi-line value as well: the runner
 * masks the log line by line, so a value spread over lines is hidden line by line too.
 */
export function maskCommands(values: readonly string[]): string {
  const masks = new Set<string>();
  for (const v of values) {
    if (v.trim() === '') continue;
    masks.add(v);
    if (/[\r\n]/.test(v)) for (const line of v.split(/\r?\n|\r/)) if (line.trim() !== '') masks.add(line);
  }
  return [...masks].map(maskCommand).join('');
}

/** An argument as a POSIX shell reads it back. */
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * What the action prints before the build starts: the masks first, then the command run, with
 * any secret a user wrote into an argument (a cache's `token=`) shown as `***`, as the runner
 * would show it.
 */
export function logPreamble(cmd: BuildCommand): string {
  let line = cmd.argv.map(shellWord).join(' ');
  for (const s of [...cmd.secrets].sort((a, b) => b.length - a.length)) if (s.trim() !== '') line = line.replaceAll(s, '***');
  return `${maskCommands(cmd.secrets)}tsbuild ${line}\n`;
}
