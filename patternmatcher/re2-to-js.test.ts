import { describe, expect, it } from 'vitest';
import { Re2SyntaxError, translateRe2 } from './re2-to-js.js';

/** Does the JavaScript translation of this Go regexp match `text`? */
function goMatches(re2: string, text: string): boolean {
  return new RegExp(translateRe2(re2).source, 'u').test(text);
}

describe('translateRe2', () => {
  it('keeps the anchors and the path-segment classes Docker generates', () => {
    expect(goMatches('^src/[^/]*\\.ts$', 'src/main.ts')).toBe(true);
    expect(goMatches('^src/[^/]*\\.ts$', 'src/a/main.ts')).toBe(false);
    expect(goMatches('^(.*/)?cache$', 'a/b/cache')).toBe(true);
    expect(goMatches('^(.*/)?cache$', 'cache')).toBe(true);
    expect(goMatches('^(.*/)?cache$', 'xcache')).toBe(false);
  });

  it("gives `.` Go's meaning: anything but a newline, carriage return included", () => {
    expect(goMatches('^a.b$', 'a\rb')).toBe(true);
    expect(goMatches('^a.b$', 'a\nb')).toBe(false);
  });

  it('reads Perl classes and escapes the Go way', () => {
    expect(goMatches('^v\\d$', 'v7')).toBe(true);
    expect(goMatches('^v\\d$', 'v٣')).toBe(false); // ASCII digits only
    expect(goMatches('^a\\sb$', 'a\u000bb')).toBe(false); // \s has no \v in Go
    expect(goMatches('^a\\Sb$', 'a\u000bb')).toBe(true);
    expect(goMatches('^\\x41\\101\\x{42}$', 'AAB')).toBe(true);
    expect(goMatches('^a\\_b$', 'a_b')).toBe(true);
  });

  it('reads POSIX and Unicode classes inside brackets', () => {
    expect(goMatches('^[[:digit:]x]+$', '12x')).toBe(true);
    expect(goMatches('^[[:^alpha:]]$', 'a')).toBe(false);
    expect(goMatches('^[[:^alpha:]]$', '1')).toBe(true);
    expect(goMatches('^\\pL+$', 'héllo')).toBe(true);
    expect(goMatches('^[\\d_]+$', '1_2')).toBe(true);
  });

  it('treats `]` first in a class and a bare `]` or `}` as literals', () => {
    expect(goMatches('^[]a]$', ']')).toBe(true);
    expect(goMatches('^a]}$', 'a]}')).toBe(true);
  });

  it('supports alternation, groups and counted repetition', () => {
    expect(goMatches('^a|b$', 'ax')).toBe(true);
    expect(goMatches('^a|b$', 'xb')).toBe(true);
    expect(goMatches('^x{2}$', 'xx')).toBe(true);
    expect(goMatches('^x{2,}$', 'xxxx')).toBe(true);
    expect(goMatches('^x{1,2}$', 'xxx')).toBe(false);
    expect(goMatches('^x{a}$', 'x{a}')).toBe(true); // not a repeat: literal
  });

  it('takes everything after \\Q literally, to \\E or the end', () => {
    expect(goMatches('^a\\Q*.$', 'a*.$')).toBe(true);
    expect(goMatches('^a\\Q*\\E.$', 'a*z')).toBe(true);
  });

  it('repeats zero-width assertions as Go allows', () => {
    expect(goMatches('^^{2}x$', 'x')).toBe(true);
  });

  it('reports the literal prefix and suffix every match needs', () => {
    expect(translateRe2('^node_modules/[^/]*/dist$')).toMatchObject({
      requiredPrefix: 'node_modules/',
      requiredSuffix: '/dist',
    });
    expect(translateRe2('^(.*/)?[^/]*\\.log$')).toMatchObject({ requiredPrefix: '', requiredSuffix: '.log' });
    expect(translateRe2('^a|b$')).toMatchObject({ requiredPrefix: '', requiredSuffix: '' });
    expect(translateRe2('^ab*$')).toMatchObject({ requiredPrefix: 'a', requiredSuffix: '' });
  });

  it.each([
    ['^\\y$', 'invalid escape'],
    ['^\\é$', 'invalid escape'],
    ['^\\1$', 'invalid escape'],
    ['^\\C$', 'invalid escape'],
    ['^\\pX$', 'invalid character class'],
    ['^[z-a]$', 'invalid character class range'],
    ['^[[:nope:]]$', 'invalid character class range'],
    ['^[ab$', 'missing closing ]'],
    ['^a**$', 'nested repetition'],
    ['^a*{2}$', 'nested repetition'],
    ['^a{1001}$', 'invalid repeat count'],
    ['^a{3,2}$', 'invalid repeat count'],
    ['^a|*$', 'missing argument'],
    ['^a)$', 'unexpected )'],
  ])('rejects %j like Go', (re2, message) => {
    expect(() => translateRe2(re2)).toThrow(Re2SyntaxError);
    expect(() => translateRe2(re2)).toThrow(message);
  });
});
