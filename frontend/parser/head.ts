/**
 * The head of an instruction line: its keyword and its `--flags`, split exactly as BuildKit
 * splits them. The flag region is tokenised by a chevrotain lexer over the line's bytes: BuildKit
 * scans flags byte by byte (so the bytes 0x85 and 0xA0 count as white space there, and every
 * byte ≥ 0x80 is re-encoded as the rune of the same number), and lexing the binary string
 * reproduces that exactly.
 */
import { Lexer, createToken, type Lexer as LexerType, type TokenType } from 'chevrotain';
import { encodeRune, trimSpace } from './gostring.js';

/** The instruction keyword as written, its flags, and the rest of the line (all binary strings). */
export interface LineHead {
  readonly keyword: string;
  readonly flags: readonly HeadFlag[];
  readonly args: string;
  /** Byte offset of `args` in the line (after trimming). */
  readonly argsOffset: number;
  /** Byte offset of the keyword in the line. */
  readonly keywordOffset: number;
}

export interface HeadFlag {
  /** The flag with quotes and escapes removed, e.g. `--from=build`. */
  readonly text: string;
  /** Byte offsets of the flag as written in the line. */
  readonly start: number;
  readonly end: number;
}

/** BuildKit's reWhitespace: ASCII blanks, not "\n" (a logical line never holds one). */
const ASCII_BLANK = /[\t\v\f\r ]+/;

interface FlagLexer {
  readonly lexer: LexerType;
  readonly flag: TokenType;
  readonly rest: TokenType;
}

const lexers = new Map<string, FlagLexer>();

function flagLexer(escape: string): FlagLexer {
  let l = lexers.get(escape);
  if (l !== undefined) return l;
  const e = escape === '\\' ? '\\\\' : escape;
  const ws = '\\t\\n\\v\\f\\r \\x85\\xa0';
  const blank = createToken({ name: 'Blank', pattern: new RegExp(`[${ws}]+`), group: Lexer.SKIPPED });
  // A word starting with "--": plain bytes, escaped bytes, and quoted runs (which may hold
  // blanks); an escape at the very end of the line escapes nothing.
  const flag = createToken({
    name: 'Flag',
    pattern: new RegExp(
      `--(?:[^${ws}'"${e}]|${e}[^]?|"(?:[^"${e}]|${e}[^]?)*"?|'(?:[^'${e}]|${e}[^]?)*'?)*`,
    ),
    line_breaks: true,
  });
  // Anything else ends the flags: the rest of the line is the instruction's arguments.
  const rest = createToken({ name: 'Rest', pattern: /[^]+/, line_breaks: true });
  l = {
    lexer: new Lexer([blank, flag, rest], {
      positionTracking: 'onlyOffset',
      // Three tokens over one line: the first-character analysis (a regexp parse per
      // pattern) costs more at every start than it could ever save in lexing.
      safeMode: true,
      skipValidations: true,
    }),
    flag,
    rest,
  };
  lexers.set(escape, l);
  return l;
}

/** Remove quotes and escapes from a flag word, byte by byte as BuildKit does. */
function unquoteFlag(raw: string, escape: string, atLineEnd: boolean): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i]!;
    if (quote === '' && (c === '"' || c === "'")) {
      quote = c;
      continue;
    }
    if (quote !== '' && c === quote) {
      quote = '';
      continue;
    }
    if (c === escape) {
      if (i + 1 === raw.length) {
        // Only possible at the end of the line: the escape is dropped.
        if (atLineEnd) {
          quote = '';
          continue;
        }
      }
      i++;
      c = raw[i]!;
    }
    out += encodeRune(c.charCodeAt(0));
  }
  return out;
}

interface FlagSplit {
  readonly flags: HeadFlag[];
  readonly rest: string;
  readonly restOffset: number;
}

/** The flag lexer's blanks, as char codes of the binary string: \t \n \v \f \r space 0x85 0xa0. */
function isFlagBlank(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0;
}

/**
 * The flags of a line whose flag words are plain: no quote, no escape character and no byte
 * above 0x7f, where the lexer's result is the words as written. Most lines are so, and then
 * no lexer is built (building one costs about as much as parsing a whole Dockerfile).
 * undefined when a flag word is not plain: the lexer splits that line.
 */
export function plainFlags(line: string, escape: string): FlagSplit | undefined {
  const flags: HeadFlag[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isFlagBlank(line.charCodeAt(i))) i++;
    if (i === line.length) return { flags, rest: '', restOffset: i };
    if (!line.startsWith('--', i)) return { flags, rest: line.slice(i), restOffset: i };
    let end = i + 2;
    for (; end < line.length; end++) {
      const c = line.charCodeAt(end);
      if (isFlagBlank(c)) break;
      if (c === 0x22 || c === 0x27 || c > 0x7f || line[end] === escape) return undefined;
    }
    const text = line.slice(i, end);
    // A bare "--" ends the flags; what follows it is the arguments.
    if (text === '--') return { flags, rest: line.slice(end), restOffset: end };
    flags.push({ text, start: i, end });
    i = end;
  }
}

/** The flags at the start of `line` (what follows the keyword), by the lexer. */
export function lexFlags(line: string, escape: string): FlagSplit {
  const { lexer, flag } = flagLexer(escape);
  const tokens = lexer.tokenize(line).tokens;
  const flags: HeadFlag[] = [];
  for (const t of tokens) {
    if (t.tokenType !== flag) return { flags, rest: line.slice(t.startOffset), restOffset: t.startOffset };
    const end = t.startOffset + t.image.length;
    const text = unquoteFlag(t.image, escape, end === line.length);
    // A bare "--" ends the flags; what follows it is the arguments.
    if (text === '--') return { flags, rest: line.slice(end), restOffset: end };
    flags.push({ text, start: t.startOffset, end });
  }
  return { flags, rest: '', restOffset: line.length };
}

/** The flags at the start of `line`: see plainFlags and lexFlags, which agree on plain lines. */
export function extractFlags(line: string, escape: string): FlagSplit {
  return plainFlags(line, escape) ?? lexFlags(line, escape);
}

/** Leading bytes removed by trimSpace. */
function leadingTrimmed(s: string, trimmed: string): number {
  if (trimmed.length === 0) return s.length;
  return s.indexOf(trimmed);
}

export function splitHead(line: string, escape: string): LineHead {
  const t = trimSpace(line);
  const keywordOffset = leadingTrimmed(line, t);
  const m = ASCII_BLANK.exec(t);
  if (m === null) {
    return { keyword: t, flags: [], args: '', argsOffset: keywordOffset + t.length, keywordOffset };
  }
  const keyword = t.slice(0, m.index);
  const restStart = m.index + m[0].length;
  const { flags, rest, restOffset } = extractFlags(t.slice(restStart), escape);
  const args = trimSpace(rest);
  const base = keywordOffset + restStart;
  const shifted = flags.map((f) => ({ text: f.text, start: f.start + base, end: f.end + base }));
  return {
    keyword,
    flags: shifted,
    args,
    argsOffset: base + restOffset + leadingTrimmed(rest, args),
    keywordOffset,
  };
}
