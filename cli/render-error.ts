/**
 * How an error looks to a person: one paragraph, `FILE:LINE:COL: message`, the source line
 * with a caret under the spot, and the hint. No stack trace unless --debug.
 */
import { isBuildError } from '../errors/index.js';

/** Reads a source line (1-based) of a file named in an error, if it can be read. */
export type SourceLines = (file: string, line: number) => string | undefined;

export function renderError(e: unknown, lines: SourceLines, debug: boolean): string {
  if (!isBuildError(e)) {
    const msg = e instanceof Error ? e.message : String(e);
    const stack = debug && e instanceof Error && e.stack !== undefined ? `\n${e.stack}` : '';
    return `error: ${msg}${stack}\n`;
  }
  let out = 'error: ';
  const r = e.range;
  if (r !== undefined) out += `${r.file}:${r.start.line}:${r.start.column}: `;
  out += e.message + '\n';
  if (r !== undefined) {
    const text = lines(r.file, r.start.line);
    if (text !== undefined) {
      const num = String(r.start.line);
      const pad = ' '.repeat(num.length);
      const shown = text.replace(/\t/g, ' ');
      const col = Math.min(Math.max(r.start.column, 1), shown.length + 1);
      let width = 1;
      if (r.end.line === r.start.line && r.end.column > r.start.column) width = r.end.column - r.start.column;
      else if (r.end.line > r.start.line) width = Math.max(1, shown.length - col + 1);
      out += `  ${num} | ${shown}\n  ${pad} | ${' '.repeat(col - 1)}${'^'.repeat(width)}\n`;
    }
  }
  if (e.hint !== undefined) out += `  hint: ${e.hint}\n`;
  if (debug && e.stack !== undefined) out += `${e.stack}\n`;
  return out;
}
