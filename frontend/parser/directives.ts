/**
 * Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) with BuildKit's rules: they are
 * only recognised while every line so far has been a directive; the first line that is not
 * (a blank line, an ordinary comment, an unknown `# key=value`, an instruction) ends them for
 * good; each may appear once; keys are case-insensitive.
 */

import { trimLeftSpace } from './gostring.js';

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/s;
export const KNOWN_DIRECTIVES = ['syntax', 'escape', 'check'] as const;
export type DirectiveName = (typeof KNOWN_DIRECTIVES)[number];

export interface Directive {
  readonly name: DirectiveName;
  /** The value as written (a binary string). */
  readonly value: string;
  /** 1-based line. */
  readonly line: number;
}

export class DuplicateDirectiveError extends Error {
  constructor(readonly directive: string) {
    super(`only one ${directive} parser directive can be used`);
  }
}

export class DirectiveScanner {
  private line = 0;
  private done = false;
  private readonly seen = new Set<string>();

  /**
   * Feed the next physical line (newline trimmed; leading white space already trimmed for
   * the first line of an instruction). Returns the directive it holds, if any.
   */
  scan(text: string): Directive | undefined {
    this.line++;
    if (this.done) return undefined;
    if (!text.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const body = trimLeftSpace(text.slice(1));
    const m = DIRECTIVE.exec(body);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      this.done = true;
      return undefined;
    }
    const name = m[1].toLowerCase();
    if (!(KNOWN_DIRECTIVES as readonly string[]).includes(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new DuplicateDirectiveError(name);
    this.seen.add(name);
    return { name: name as DirectiveName, value: m[2], line: this.line };
  }
}


