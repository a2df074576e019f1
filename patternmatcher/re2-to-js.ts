/**
 * Gives a Go (RE2, Perl flags) regular expression the same meaning as a JavaScript RegExp with
 * the `u` flag. It covers the syntax a Docker pattern can produce (see docker-pattern.ts):
 * literals, escapes, `.`, classes (ranges, `[:name:]`, `\d\s\w`, `\pL`), groups, `|`, `^`, `$`,
 * and repetition (`*`, `+`, `?`, `{n,m}`); where Go and JavaScript differ (`.` and `\s` and
 * `[:space:]`, `\pC`, `\Q…\E`, `\z`, an escaped non-word character) it writes what Go means.
 * Go's syntax errors are raised as Re2SyntaxError, as Go's regexp.Compile would.
 *
 * Why one file: it is one recursive-descent translator; its parts (classes, groups,
 * repetition) call each other and share the Go-versus-JavaScript tables.
 */

export class Re2SyntaxError extends Error {
  override readonly name = 'Re2SyntaxError';
}

export interface TranslatedRegexp {
  /** JavaScript source for `new RegExp(source, 'u')`. */
  readonly source: string;
  /** A literal every match starts with ('' when unknown): a cheap test before the RegExp. */
  readonly requiredPrefix: string;
  /** A literal every match ends with ('' when unknown). */
  readonly requiredSuffix: string;
}

type Range = readonly [lo: number, hi: number];

interface Atom {
  js: string;
  /** Set for a single literal character. */
  literal?: string;
  /** Zero-width assertions: JavaScript cannot repeat them bare. */
  assertion?: 'begin' | 'end' | 'other';
  quantifier?: string;
}

const MAX_RUNE = 0x10ffff;
const DIGIT: readonly Range[] = [[0x30, 0x39]];
const WORD: readonly Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const PERL_SPACE: readonly Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];

const POSIX_CLASSES: ReadonlyMap<string, readonly Range[]> = new Map([
  ['alnum', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]],
  ['alpha', [[0x41, 0x5a], [0x61, 0x7a]]],
  ['ascii', [[0x00, 0x7f]]],
  ['blank', [[0x09, 0x09], [0x20, 0x20]]],
  ['cntrl', [[0x00, 0x1f], [0x7f, 0x7f]]],
  ['digit', DIGIT],
  ['graph', [[0x21, 0x7e]]],
  ['lower', [[0x61, 0x7a]]],
  ['print', [[0x20, 0x7e]]],
  ['punct', [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]],
  ['space', [[0x09, 0x0d], [0x20, 0x20]]],
  ['upper', [[0x41, 0x5a]]],
  ['word', WORD],
  ['xdigit', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]],
] satisfies [string, readonly Range[]][]);

const PERL_CLASSES: ReadonlyMap<string, readonly Range[]> = new Map([
  ['d', DIGIT],
  ['s', PERL_SPACE],
  ['w', WORD],
] satisfies [string, readonly Range[]][]);

/** Go's one-letter Unicode categories; Go's C leaves out unassigned code points (Cn). */
const UNICODE_CATEGORIES: ReadonlyMap<string, string> = new Map([
  ['L', '\\p{L}'],
  ['M', '\\p{M}'],
  ['N', '\\p{N}'],
  ['P', '\\p{P}'],
  ['S', '\\p{S}'],
  ['Z', '\\p{Z}'],
  ['C', '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}'],
]);

export function translateRe2(re2: string): TranslatedRegexp {
  return new Re2Translator(re2).translate();
}

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

function codeEscape(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

function literalJs(code: number): string {
  const isWord =
    (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
  return isWord ? String.fromCodePoint(code) : codeEscape(code);
}

function rangesJs(ranges: readonly Range[]): string {
  let js = '';
  for (const [lo, hi] of ranges) js += lo === hi ? codeEscape(lo) : `${codeEscape(lo)}-${codeEscape(hi)}`;
  return js;
}

function isAsciiAlnum(c: string): boolean {
  return /^[0-9A-Za-z]$/.test(c);
}

function hexValue(c: string | undefined): number {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c) ? parseInt(c, 16) : -1;
}

function isOctal(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '7';
}

class Re2Translator {
  private readonly chars: string[];
  private k = 0;

  constructor(private readonly re2: string) {
    this.chars = Array.from(re2);
  }

  translate(): TranslatedRegexp {
    const alternatives = this.alternation();
    if (this.k < this.chars.length) throw new Re2SyntaxError(`unexpected ) in ${this.re2}`);
    const source = alternatives.map(atomsJs).join('|');
    if (alternatives.length !== 1) return { source, requiredPrefix: '', requiredSuffix: '' };
    const atoms = alternatives[0]!;
    return { source, requiredPrefix: requiredPrefix(atoms), requiredSuffix: requiredSuffix(atoms) };
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.k + offset];
  }

  /** Alternatives up to an unmatched `)` or the end. */
  private alternation(): Atom[][] {
    const alternatives: Atom[][] = [[]];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === ')') return alternatives;
      const atoms = alternatives[alternatives.length - 1]!;
      this.k++;
      switch (c) {
        case '|':
          alternatives.push([]);
          break;
        case '(': {
          if (this.peek() === '?') throw new Re2SyntaxError('group flags are not supported');
          const inner = this.alternation();
          if (this.peek() !== ')') throw new Re2SyntaxError(`missing closing ) in ${this.re2}`);
          this.k++;
          atoms.push({ js: `(?:${inner.map(atomsJs).join('|')})` });
          break;
        }
        case '^':
          atoms.push({ js: '^', assertion: 'begin' });
          break;
        case '$':
          atoms.push({ js: '$', assertion: 'end' });
          break;
        case '.':
          atoms.push({ js: '[^\\n]' }); // Go's `.` excludes only \n; JavaScript's also \r, U+2028/9
          break;
        case '[':
          atoms.push({ js: this.characterClass() });
          break;
        case '*':
        case '+':
        case '?':
          this.repeat(atoms, c);
          break;
        case '{': {
          const bounds = this.repeatBounds();
          if (bounds === undefined) atoms.push({ js: literalJs(0x7b), literal: '{' });
          else this.repeat(atoms, bounds);
          break;
        }
        case '\\':
          this.escapeOutsideClass(atoms);
          break;
        default:
          atoms.push({ js: literalJs(c.codePointAt(0)!), literal: c });
      }
    }
  }

  private repeat(atoms: Atom[], quantifier: string): void {
    const last = atoms[atoms.length - 1];
    if (last === undefined) throw new Re2SyntaxError(`missing argument to repetition operator ${quantifier}`);
    if (last.quantifier !== undefined) {
      throw new Re2SyntaxError(`invalid nested repetition operator ${last.quantifier}${quantifier}`);
    }
    if (this.peek() === '?') {
      this.k++;
      quantifier += '?';
    }
    last.quantifier = quantifier;
  }

  /** After `{`: `{n}`, `{n,}` or `{n,m}` as Go reads them, or undefined when `{` is a literal. */
  private repeatBounds(): string | undefined {
    const start = this.k;
    const min = this.integer();
    if (min === undefined) return undefined;
    let max: number | undefined = min;
    let text = `${min}`;
    if (this.peek() === ',') {
      this.k++;
      if (this.peek() === '}') {
        max = undefined;
        text += ',';
      } else {
        const m = this.integer();
        if (m === undefined) {
          this.k = start;
          return undefined;
        }
        max = m;
        text += `,${m}`;
      }
    }
    if (this.peek() !== '}') {
      this.k = start;
      return undefined;
    }
    this.k++;
    if (min > 1000 || (max !== undefined && (max > 1000 || min > max))) {
      throw new Re2SyntaxError(`invalid repeat count {${text}}`);
    }
    return `{${text}}`;
  }

  /** Decimal digits without a leading zero (Go refuses `{01}` as a repeat). */
  private integer(): number | undefined {
    let digits = '';
    while (this.peek() !== undefined && /^[0-9]$/.test(this.peek()!)) digits += this.chars[this.k++]!;
    if (digits === '' || (digits.length > 1 && digits[0] === '0')) {
      this.k -= digits.length;
      return undefined;
    }
    return digits.length > 9 ? 10_000 : Number(digits);
  }

  private escapeOutsideClass(atoms: Atom[]): void {
    const c = this.peek();
    switch (c) {
      case 'A':
        this.k++;
        atoms.push({ js: '^', assertion: 'begin' });
        return;
      case 'z':
        this.k++;
        atoms.push({ js: '$', assertion: 'end' });
        return;
      case 'b':
      case 'B':
        this.k++;
        atoms.push({ js: `\\${c}`, assertion: 'other' });
        return;
      case 'Q': {
        // Everything up to `\E` (or the end, Docker's closing `$` included) is literal.
        this.k++;
        while (this.k < this.chars.length && !(this.peek() === '\\' && this.peek(1) === 'E')) {
          const ch = this.chars[this.k++]!;
          atoms.push({ js: literalJs(ch.codePointAt(0)!), literal: ch });
        }
        if (this.k < this.chars.length) this.k += 2;
        return;
      }
    }
    const unicode = this.unicodeClass();
    if (unicode !== undefined) {
      atoms.push({ js: unicode.negated ? `[^${unicode.js}]` : `[${unicode.js}]` });
      return;
    }
    const perl = this.perlClass();
    if (perl !== undefined) {
      atoms.push({ js: `[${rangesJs(perl)}]` });
      return;
    }
    const code = this.escapedCode();
    atoms.push({ js: literalJs(code), literal: String.fromCodePoint(code) });
  }

  /** At the letter after `\`: `\pX` or `\PX` as JavaScript class items, else undefined. */
  private unicodeClass(): { js: string; negated: boolean } | undefined {
    const letter = this.peek();
    if (letter !== 'p' && letter !== 'P') return undefined;
    // Docker escapes no `{`-form here (`\p{Greek}` reaches RE2 as `\p` then `{`), so only one-letter names.
    const name = this.peek(1);
    const js = name === undefined ? undefined : UNICODE_CATEGORIES.get(name);
    if (js === undefined) throw new Re2SyntaxError(`invalid character class range \\${letter}${name ?? ''}`);
    this.k += 2;
    return { js, negated: letter === 'P' };
  }

  /** At the letter after `\`: `\d \D \s \S \w \W` as ranges, else undefined. */
  private perlClass(): Range[] | undefined {
    const c = this.peek();
    if (c === undefined || !/^[dswDSW]$/.test(c)) return undefined;
    this.k++;
    const ranges = PERL_CLASSES.get(c.toLowerCase())!;
    return c === c.toLowerCase() ? [...ranges] : complement(ranges);
  }

  /** The character a `\` escape stands for (Go's parseEscape); the `\` is already consumed. */
  private escapedCode(): number {
    const c = this.chars[this.k++];
    if (c === undefined) throw new Re2SyntaxError('trailing backslash at end of expression');
    const code = c.codePointAt(0)!;
    if (code < 0x80 && !isAsciiAlnum(c)) return code; // escaped punctuation is itself
    if (c >= '1' && c <= '7' && !isOctal(this.peek())) {
      throw new Re2SyntaxError(`invalid escape sequence \\${c}`); // a back-reference in Perl
    }
    if (c >= '0' && c <= '7') {
      let value = code - 0x30;
      for (let n = 0; n < 2 && isOctal(this.peek()); n++) value = value * 8 + (this.chars[this.k++]!.charCodeAt(0) - 0x30);
      return value;
    }
    if (c === 'x' && this.peek() === '{') {
      // Docker leaves `{` unescaped, so `\x{41}` reaches RE2 intact: any number of hex digits.
      this.k++;
      let value = 0;
      let digits = 0;
      while (hexValue(this.peek()) >= 0) {
        value = value * 16 + hexValue(this.chars[this.k++]);
        digits++;
        if (value > MAX_RUNE) throw new Re2SyntaxError('invalid escape sequence \\x{');
      }
      if (digits === 0 || this.peek() !== '}') throw new Re2SyntaxError('invalid escape sequence \\x{');
      this.k++;
      return value;
    }
    if (c === 'x') {
      const hi = hexValue(this.peek());
      const lo = hexValue(this.peek(1));
      if (hi < 0 || lo < 0) throw new Re2SyntaxError(`invalid escape sequence \\x${this.peek() ?? ''}`);
      this.k += 2;
      return hi * 16 + lo;
    }
    const control: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    const value = control[c];
    if (value !== undefined) return value;
    throw new Re2SyntaxError(`invalid escape sequence \\${c}`);
  }

  /** After `[`: the class up to its `]`, as JavaScript. */
  private characterClass(): string {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.k++;
    }
    const ranges: Range[] = [];
    let extra = '';
    let first = true; // a `]` right after `[` or `[^` is a literal
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new Re2SyntaxError(`missing closing ] in ${this.re2}`);
      if (c === ']' && !first) {
        this.k++;
        break;
      }
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const named = this.posixClass();
        if (named !== undefined) {
          ranges.push(...named);
          continue;
        }
      }
      if (c === '\\') {
        this.k++;
        const unicode = this.unicodeClass();
        if (unicode !== undefined) {
          // A negated union cannot be written inside a class; \P{C} differs only on unassigned code points.
          extra += unicode.negated ? `\\P{${this.chars[this.k - 1]!}}` : unicode.js;
          continue;
        }
        const perl = this.perlClass();
        if (perl !== undefined) {
          ranges.push(...perl);
          continue;
        }
        this.k--;
      }
      const lo = this.classChar();
      let hi = lo;
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.k++;
        hi = this.classChar();
        if (hi < lo) throw new Re2SyntaxError(`invalid character class range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`);
      }
      ranges.push([lo, hi]);
    }
    return `[${negated ? '^' : ''}${rangesJs(ranges)}${extra}]`;
  }

  /** At `[:`: a named class such as `[:alpha:]` or `[:^alpha:]`, else undefined (a literal `[`). */
  private posixClass(): Range[] | undefined {
    const rest = this.chars.slice(this.k + 2).join('');
    const close = rest.indexOf(':]');
    if (close < 0) return undefined;
    let name = rest.slice(0, close);
    const negated = name.startsWith('^');
    if (negated) name = name.slice(1);
    const ranges = POSIX_CLASSES.get(name);
    if (ranges === undefined) throw new Re2SyntaxError(`invalid character class range [:${rest.slice(0, close)}:]`);
    this.k += 2 + Array.from(rest.slice(0, close)).length + 2;
    return negated ? complement(ranges) : [...ranges];
  }

  private classChar(): number {
    const c = this.chars[this.k++];
    if (c === undefined) throw new Re2SyntaxError(`missing closing ] in ${this.re2}`);
    return c === '\\' ? this.escapedCode() : c.codePointAt(0)!;
  }
}

function atomsJs(atoms: readonly Atom[]): string {
  let js = '';
  for (const atom of atoms) {
    if (atom.quantifier === undefined) js += atom.js;
    else if (atom.assertion !== undefined) js += `(?:${atom.js})${atom.quantifier}`;
    else js += atom.js + atom.quantifier;
  }
  return js;
}

function requiredPrefix(atoms: readonly Atom[]): string {
  let i = 0;
  while (i < atoms.length && atoms[i]!.assertion === 'begin' && atoms[i]!.quantifier === undefined) i++;
  if (i === 0) return '';
  let prefix = '';
  for (; i < atoms.length && atoms[i]!.literal !== undefined && atoms[i]!.quantifier === undefined; i++) {
    prefix += atoms[i]!.literal!;
  }
  return prefix;
}

function requiredSuffix(atoms: readonly Atom[]): string {
  let i = atoms.length - 1;
  while (i >= 0 && atoms[i]!.assertion === 'end' && atoms[i]!.quantifier === undefined) i--;
  if (i === atoms.length - 1) return '';
  let suffix = '';
  for (; i >= 0 && atoms[i]!.literal !== undefined && atoms[i]!.quantifier === undefined; i--) {
    suffix = atoms[i]!.literal! + suffix;
  }
  return suffix;
}
