import { describe, expect, it } from 'vitest';
import { decodeRune, goQuote, goToLower, toBinary, trimSpace } from './gostring.js';

const bin = (s: string) => toBinary(s);

describe('Go string semantics on byte strings', () => {
  it('decodes UTF-8 like utf8.DecodeRune, one byte at a time when invalid', () => {
    expect(decodeRune(bin('é'), 0)).toEqual([0xe9, 2]);
    expect(decodeRune('\xc0\x80', 0)).toEqual([0xfffd, 1]); // overlong
    expect(decodeRune('\xed\xa0\x80', 0)).toEqual([0xfffd, 1]); // surrogate
    expect(decodeRune(bin('😀'), 0)).toEqual([0x1f600, 4]);
    expect(decodeRune('\xf4\x90\x80\x80', 0)).toEqual([0xfffd, 1]); // beyond U+10FFFF
  });

  it('quotes like strconv.Quote', () => {
    expect(goQuote('a"b\\c\n\t\x07\x7f')).toBe('"a\\"b\\\\c\\n\\t\\a\\x7f"');
    expect(goQuote(bin('é\u00a0\u200b😀\u{e0001}'))).toBe(bin('"é\\u00a0\\u200b😀\\U000e0001"'));
    expect(goQuote('\xff\xfe')).toBe('"\\xff\\xfe"');
  });

  it('lower-cases like strings.ToLower', () => {
    expect(goToLower('RUN')).toBe('run');
    expect(goToLower(bin('İSTANBUL'))).toBe('istanbul');
    expect(goToLower(bin('ΣΑΣ'))).toBe(bin('σασ'));
    expect(goToLower('A\xff')).toBe(bin('a\ufffd'));
  });

  it('trims Unicode white space like strings.TrimSpace', () => {
    expect(trimSpace(bin('\u00a0\u3000 x y\u2029\u0085'))).toBe('x y');
    expect(trimSpace(bin('\u200bx'))).toBe(bin('\u200bx')); // zero-width space is not white space
  });
});
