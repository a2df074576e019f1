// The plain-flag fast path must give exactly what the lexer gives, on every line it accepts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractFlags, lexFlags, plainFlags } from './head.js';

// Binary strings, as the parser holds lines: 0x85 and 0xa0 are blanks to BuildKit, 0xc3 starts
// a UTF-8 sequence.
const PIECES = ['--', '-', 'from', '=', 'a', '/x', ',', ' ', '\t', '\v', '\r', '\n', '\x85', '\xa0', '\xc3\xa9', '"', "'", '\\', '`', 'type=cache'];

describe('plainFlags', () => {
  it('splits the usual flag lines without the lexer', () => {
    const cases: [string, string[], string][] = [
      ['--from=build /a /b', ['--from=build'], '/a /b'],
      ['--mount=type=cache,target=/root/.cache --network=none go build ./...', ['--mount=type=cache,target=/root/.cache', '--network=none'], 'go build ./...'],
      ['  --chown=1:2\t--chmod=755 src dst', ['--chown=1:2', '--chmod=755'], 'src dst'],
      ['-- --not-a-flag x', [], ' --not-a-flag x'],
      ['echo --flag', [], 'echo --flag'],
      ['   ', [], ''],
    ];
    for (const [line, flags, rest] of cases) {
      const split = plainFlags(line, '\\');
      expect(split, line).toBeDefined();
      expect(split!.flags.map((f) => f.text)).toEqual(flags);
      expect(split!.rest).toBe(rest);
      expect(split).toEqual(lexFlags(line, '\\'));
    }
  });

  it('leaves quoted, escaped and non-ASCII flag words to the lexer', () => {
    expect(plainFlags('--mount="type=cache" x', '\\')).toBeUndefined();
    expect(plainFlags("--a='b c' x", '\\')).toBeUndefined();
    expect(plainFlags('--a=b\\ c x', '\\')).toBeUndefined();
    expect(plainFlags('--a=b`c x', '`')).toBeUndefined();
    expect(plainFlags('--a=\xc3\xa9 x', '\\')).toBeUndefined();
    // Not in a flag word: plain.
    expect(plainFlags('--a=b "quoted" \\ \xc3\xa9', '\\')).toBeDefined();
  });

  it('agrees with the lexer on any line it accepts', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }), fc.constantFrom('\\', '`'), (pieces, escape) => {
        const line = pieces.join('');
        const plain = plainFlags(line, escape);
        const lexed = lexFlags(line, escape);
        if (plain !== undefined) expect(plain).toEqual(lexed);
        expect(extractFlags(line, escape)).toEqual(lexed);
      }),
      { numRuns: 3000 },
    );
  });
});
