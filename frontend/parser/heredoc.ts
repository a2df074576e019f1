/**
 * Heredoc markers in RUN, COPY and ADD lines (`<<EOF`, `<<-EOF`, `2<<"EOF"`), found as BuildKit
 * finds them: the line is split into shell words (quotes and escapes kept, variables left
 * alone), and every word of the form `[fd]<<[-]NAME` is a heredoc whose body follows the line.
 */
import { Lex } from '../shell/index.js';
import { isBuildError } from '../../errors/index.js';
import { fromBinary, toBinary } from './gostring.js';

export interface RawHeredoc {
  /** The delimiter as a binary string (to compare with the raw lines that follow). */
  readonly name: string;
  readonly expand: boolean;
  readonly chomp: boolean;
  readonly fd: number;
  /** The body, a binary string; empty until the lines after the instruction are read. */
  readonly content: string;
}

export class HeredocError extends Error {}

const MARKER = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

const lineWords = new Lex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
const plainName = new Lex('\\', { skipUnsetEnv: true });
const rawName = new Lex('\\', { rawQuotes: true, skipUnsetEnv: true });

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] === '"' || s[i] === "'") n++;
  return n;
}

function wordsOf(lex: Lex, text: string): readonly string[] {
  try {
    return lex.processWords(text, []);
  } catch (e) {
    if (isBuildError(e)) throw new HeredocError(e.message);
    throw e;
  }
}

/** The heredoc a single word introduces, if any. */
export function heredocFromWord(word: string): RawHeredoc | undefined {
  const m = MARKER.exec(word);
  if (m === null) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  const words = wordsOf(plainName, rest);
  if (words.length !== 1) return undefined;
  const raw = wordsOf(rawName, rest);
  if (raw.length !== words.length) {
    throw new HeredocError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  // If quotes vanish when quotes are processed, part of the delimiter was quoted: no expansion.
  const name = words[0]!;
  const fd = m[1] === '' ? 0 : Number.parseInt(m[1]!, 10);
  return {
    name: toBinary(name),
    expand: countQuotes(name) === countQuotes(raw[0]!),
    chomp: m[2] === '-',
    fd: Number.isSafeInteger(fd) ? fd : 0,
    content: '',
  };
}

/** All heredocs of an instruction line (a binary string), in order. */
export function findHeredocs(line: string): RawHeredoc[] {
  let words: readonly string[];
  try {
    words = lineWords.processWords(fromBinary(line), []);
  } catch {
    // BuildKit ignores a line it cannot split here: such a line has no heredocs.
    return [];
  }
  const docs: RawHeredoc[] = [];
  for (const w of words) {
    const h = heredocFromWord(w);
    if (h !== undefined) docs.push(h);
  }
  return docs;
}
