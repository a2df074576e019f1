/**
 * Character classes exactly as Go's `unicode` package defines them, since BuildKit's lexer
 * decides word boundaries and variable names with those functions, not with JavaScript's.
 */

/** Returned by readers at the end of input, like text/scanner's EOF. */
export const EOF = -1;

/** Go's unicode.IsSpace (one definition for the frontend). Differs from JS `\s`: U+FEFF is not a space. */
export { isGoSpace } from '../parser/gostring.js';

const LETTER = /^\p{L}$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** Go's unicode.IsDigit: any decimal digit (Nd), not only ASCII. */
export function isGoDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return cp > 0xff && DECIMAL_DIGIT.test(String.fromCodePoint(cp));
}

/** Go's unicode.IsLetter. */
export function isGoLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return LETTER.test(String.fromCodePoint(cp));
}

/** A character of a variable name after the first: letter, digit or underscore. */
export function isNameChar(cp: number): boolean {
  return cp === 0x5f || isGoLetter(cp) || isGoDigit(cp);
}

/** The code point at `i` (a lone surrogate counts as one character), or EOF past the end. */
export function codePointAt(s: string, i: number): number {
  return i < s.length ? s.codePointAt(i)! : EOF;
}

/** UTF-16 length of a code point. */
export function width(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

/** How Go renders a rune with %c or string(r): an invalid rune (such as EOF) becomes U+FFFD. */
export function goRuneString(cp: number): string {
  return cp < 0 || cp > 0x10ffff ? '\uFFFD' : String.fromCodePoint(cp);
}
