import { describe, expect, it } from 'vitest';
import { goQuote } from './quote.js';

describe('goQuote (Go %q)', () => {
  it.each([
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['é한😀', '"é한😀"'],
    ['\u00a0\u0085\u200b\u2028', '"\\u00a0\\u0085\\u200b\\u2028"'],
    ['\u{e0001}', '"\\U000e0001"'],
    ["it's `x`", '"it\'s `x`"'],
  ])('%j → %s', (s, want) => {
    expect(goQuote(s)).toBe(want);
  });
});
