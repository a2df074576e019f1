/**
 * One expansion of one word: a recursive-descent reader that mirrors BuildKit's shellWord
 * (frontend/dockerfile/shell/lex.go) step for step, because where it consumes input before
 * failing decides which error wins. Internal; see lex.ts for the public face.
 */
import { EOF, codePointAt, goRuneString, isGoDigit, isGoSpace, isNameChar, width } from './chars.js';
import type { EnvLookup } from './env.js';
import { Failure } from './errors.js';
import { compilePattern, replaceAll, replaceFirst, reversePattern, reverseString, trimMatchedPrefix } from './pattern.js';

export interface ExpanderConfig {
  readonly escape: number;
  readonly rawQuotes: boolean;
  readonly rawEscapes: boolean;
  readonly processQuotes: boolean;
  readonly skipUnsetEnv: boolean;
}

const DOLLAR = 0x24;
const LT = 0x3c;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COLON = 0x3a;
const SLASH = 0x2f;
const HASH = 0x23;
const PERCENT = 0x25;

export class Expander {
  private pos: number;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  // Word splitting, done only at the top level. `buf` is the word being built; BuildKit
  // shares that buffer with the nested reads of ${a:-word} and friends, which empty it: the
  // part of a word before such an expansion is lost from the split words (not from the
  // single-word result). We keep that behaviour.
  readonly words: string[] = [];
  private buf = '';
  private inWord = false;

  constructor(
    private readonly src: string,
    private readonly env: EnvLookup,
    private readonly cfg: ExpanderConfig,
    private readonly split: boolean,
  ) {
    // text/scanner skips a byte order mark at the very start.
    this.pos = codePointAt(src, 0) === 0xfeff ? 1 : 0;
  }

  /** The whole word; `words` holds the split words afterwards when splitting. */
  run(): string {
    const result = this.readUntil(EOF, this.cfg.rawEscapes);
    if (this.split && this.buf.length > 0) this.words.push(this.buf);
    return result;
  }

  private peek(): number {
    return codePointAt(this.src, this.pos);
  }

  private next(): number {
    const cp = codePointAt(this.src, this.pos);
    if (cp !== EOF) this.pos += width(cp);
    return cp;
  }

  /** Reads up to `stop` (consumed) or the end; fails at the end when a `stop` was expected. */
  private readUntil(stop: number, raw: boolean): string {
    const track = this.split && stop === EOF;
    if (this.split && !track) this.buf = '';
    const { src, cfg } = this;
    let result = '';
    while (this.pos < src.length) {
      const ch = this.peek();
      if (ch === stop) {
        this.pos += width(ch);
        return result;
      }
      if (ch === DOLLAR) {
        const value = this.readDollar();
        result += value;
        if (track) this.addSplitting(value);
        continue;
      }
      if (ch === LT || (cfg.processQuotes && (ch === SQUOTE || ch === DQUOTE))) {
        const text = ch === LT ? this.readPossibleHeredoc() : ch === SQUOTE ? this.readSingleQuoted() : this.readDoubleQuoted(raw);
        result += text;
        if (track) this.addRaw(text);
        continue;
      }
      if (ch === cfg.escape) {
        this.pos += width(ch);
        if (raw) {
          const esc = String.fromCodePoint(ch);
          result += esc;
          if (track) this.addRaw(esc);
        }
        const escaped = this.next();
        if (escaped === EOF) break; // an escape at the very end is dropped
        const text = String.fromCodePoint(escaped);
        result += text;
        if (track) this.addRaw(text);
        continue;
      }
      // A run of ordinary characters, taken in one slice (spaces one by one when splitting).
      const start = this.pos;
      let end = start + width(ch);
      if (track && isGoSpace(ch)) {
        this.pos = end;
        result += src.slice(start, end);
        this.breakWord();
        continue;
      }
      while (end < src.length) {
        const c = src.charCodeAt(end);
        if (c === stop || c === DOLLAR || c === LT || c === cfg.escape || c === SQUOTE || c === DQUOTE) break;
        if (track && isGoSpace(c)) break;
        end++;
      }
      // Surrogate pairs never split: both halves are ordinary and the run stops at no half.
      const text = src.slice(start, end);
      this.pos = end;
      result += text;
      if (track) this.addRaw(text);
    }
    if (stop !== EOF) {
      throw new Failure('BAD_VARIABLE', `unexpected end of statement while looking for matching ${goRuneString(stop)}`, this.pos);
    }
    return result;
  }

  private addRaw(text: string): void {
    this.buf += text;
    this.inWord = true;
  }

  private breakWord(): void {
    if (this.inWord && this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
  }

  /** An expansion's value: split at spaces, which themselves vanish. */
  private addSplitting(value: string): void {
    let runStart = 0;
    for (let i = 0; i < value.length; i++) {
      if (!isGoSpace(value.charCodeAt(i))) continue;
      if (i > runStart) this.addRaw(value.slice(runStart, i));
      this.breakWord();
      runStart = i + 1;
    }
    if (runStart < value.length) this.addRaw(value.slice(runStart));
  }

  private readSingleQuoted(): string {
    const open = this.pos;
    this.pos++;
    const close = this.src.indexOf("'", this.pos);
    if (close < 0) {
      this.pos = this.src.length;
      throw new Failure('BAD_VARIABLE', 'unexpected end of statement while looking for matching single-quote', open);
    }
    const body = this.src.slice(this.pos, close);
    this.pos = close + 1;
    return this.cfg.rawQuotes ? `'${body}'` : body;
  }

  /** Inside "...": `$` expands; the escape character escapes only `"`, `$` and itself. */
  private readDoubleQuoted(raw: boolean): string {
    const open = this.pos;
    const { src, cfg } = this;
    this.pos++;
    let result = cfg.rawQuotes ? '"' : '';
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) {
        throw new Failure('BAD_VARIABLE', 'unexpected end of statement while looking for matching double-quote', open);
      }
      if (ch === DQUOTE) {
        this.pos++;
        return cfg.rawQuotes ? result + '"' : result;
      }
      if (ch === DOLLAR) {
        result += this.readDollar();
        continue;
      }
      if (ch === cfg.escape) {
        this.pos += width(ch);
        const esc = String.fromCodePoint(ch);
        if (raw) result += esc;
        const next = this.peek();
        if (next === EOF) continue; // fails on the next turn: the quote is never closed
        if (next === DQUOTE || next === DOLLAR || next === cfg.escape) {
          this.pos += width(next);
          result += String.fromCodePoint(next);
        } else {
          result += esc; // other escapes are kept as written
        }
        continue;
      }
      const start = this.pos;
      let end = start + width(ch);
      while (end < src.length) {
        const c = src.charCodeAt(end);
        if (c === DQUOTE || c === DOLLAR || c === cfg.escape) break;
        end++;
      }
      result += src.slice(start, end);
      this.pos = end;
    }
  }

  /** `<<` and the blanks after it stay one piece, so a heredoc marker is not split off. */
  private readPossibleHeredoc(): string {
    this.pos++;
    if (this.peek() !== LT) return '<';
    this.pos++;
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      this.pos++;
    }
    return '<<' + this.src.slice(start, this.pos);
  }

  /** A variable name, a run of digits (positional), or one special-parameter character. */
  private readName(): string {
    const { src } = this;
    const start = this.pos;
    const first = this.peek();
    if (first === EOF) return '';
    if (isGoDigit(first)) {
      while (this.pos < src.length && isGoDigit(this.peek())) this.next();
      return src.slice(start, this.pos);
    }
    if (isSpecialParam(first)) {
      this.next();
      return src.slice(start, this.pos);
    }
    while (this.pos < src.length && isNameChar(this.peek())) this.next();
    return src.slice(start, this.pos);
  }

  private lookup(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }

  /** Reads the modifier's word up to `stop`; a failure at the end of input becomes `atEnd`. */
  private readModifierWord(stop: number, raw: boolean, atEnd: string, start: number): string {
    try {
      return this.readUntil(stop, raw);
    } catch (e) {
      if (e instanceof Failure && this.peek() === EOF) throw new Failure('BAD_VARIABLE', atEnd, start);
      throw e;
    }
  }

  private readDollar(): string {
    const start = this.pos;
    this.pos++;
    if (this.peek() !== LBRACE) {
      const name = this.readName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.cfg.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.pos++;
    const first = this.peek();
    if (first === EOF) throw new Failure('BAD_VARIABLE', "syntax error: missing '}'", start);
    if (first === LBRACE || first === RBRACE || first === COLON) {
      throw new Failure('BAD_VARIABLE', 'syntax error: bad substitution', start);
    }
    const name = this.readName();
    let op = this.next();
    let opText = goRuneString(op);
    const unsupported = (): Failure => new Failure('BAD_VARIABLE', `unsupported modifier (${opText}) in substitution`, start);

    if (op === RBRACE) {
      const value = this.lookup(name);
      if (value === undefined && this.cfg.skipUnsetEnv) return '${' + name + '}';
      return value ?? '';
    }
    if (op === SLASH) return this.readReplace(name, start);

    let nullIsUnset = false;
    if (op === COLON) {
      nullIsUnset = true;
      op = this.next();
      opText += goRuneString(op);
    } else if (op !== 0x2b && op !== 0x2d && op !== 0x3f && op !== HASH && op !== PERCENT) {
      throw unsupported();
    }
    // After ':' BuildKit reads the word before checking the modifier, so ${a:=x fails on the
    // missing '}' rather than on '='.
    const trims = op === HASH || op === PERCENT;
    if (nullIsUnset && trims) throw unsupported();
    let word = this.readModifierWord(RBRACE, trims, "syntax error: missing '}'", start);

    const value = this.lookup(name);
    if (value === undefined && this.cfg.skipUnsetEnv) return '${' + name + opText + word + '}';
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case 0x2d: // -
        return unset ? word : value!;
      case 0x2b: // +
        return unset ? '' : word;
      case 0x3f: // ?
        if (unset) {
          const message = word !== '' ? word : value === undefined ? 'is not allowed to be unset' : 'is not allowed to be empty';
          throw new Failure('REQUIRED_VARIABLE', `${name}: ${message}`, start);
        }
        return value!;
      case HASH:
      case PERCENT: {
        const greedy = word.charCodeAt(0) === op;
        if (greedy) word = word.slice(1);
        const subject = value ?? '';
        if (op === HASH) return this.trimPrefix(word, subject, greedy, start);
        // A shortest/longest suffix is a prefix of the reversed value.
        return reverseString(this.trimPrefix(reversePattern(word), reverseString(subject), greedy, start));
      }
      default:
        throw unsupported();
    }
  }

  private trimPrefix(pattern: string, value: string, greedy: boolean, start: number): string {
    const compiled = compilePattern(pattern, greedy, true);
    if (!compiled.ok) throw badPattern(pattern, compiled.error, start);
    return trimMatchedPrefix(compiled.re, value);
  }

  /** ${name/pattern/replacement} and ${name//pattern/replacement}. */
  private readReplace(name: string, start: number): string {
    const all = this.peek() === SLASH;
    if (all) this.pos++;
    const pattern = this.readModifierWord(SLASH, true, "syntax error: missing '/' in ${}", start);
    const replacement = this.readModifierWord(RBRACE, true, "syntax error: missing '}'", start);
    const value = this.lookup(name);
    // BuildKit writes back a single '/' even for '//'.
    if (value === undefined && this.cfg.skipUnsetEnv) return '${' + name + '/' + pattern + '/' + replacement + '}';
    const compiled = compilePattern(pattern, true, false);
    if (!compiled.ok) throw badPattern(pattern, compiled.error, start);
    const subject = value ?? '';
    return all ? replaceAll(compiled.re, subject, replacement) : replaceFirst(compiled.re, subject, replacement);
  }
}

function badPattern(pattern: string, error: string, start: number): Failure {
  return new Failure('BAD_VARIABLE', `invalid pattern (${pattern}) in substitution: ${error}`, start);
}

/** POSIX special parameters ($@ $* $# $? $- $$ $! $0); never set in a Dockerfile. */
function isSpecialParam(cp: number): boolean {
  return cp === 0x40 || cp === 0x2a || cp === HASH || cp === 0x3f || cp === 0x2d || cp === DOLLAR || cp === 0x21 || cp === 0x30;
}
