import { describe, expect, it } from 'vitest';
import { compilePattern, replaceAll, replaceFirst, reversePattern, reverseString, trimMatchedPrefix } from './pattern.js';

function re(pattern: string, greedy = true, anchored = false): RegExp {
  const c = compilePattern(pattern, greedy, anchored);
  if (!c.ok) throw new Error(c.error);
  return c.re;
}

describe('compilePattern', () => {
  it('treats only * and ? as wildcards', () => {
    expect(trimMatchedPrefix(re('a?c', true, true), 'abcd')).toBe('d');
    expect(trimMatchedPrefix(re('[ab]', true, true), '[ab]x')).toBe('x');
    expect(trimMatchedPrefix(re('a.c', true, true), 'abcd')).toBe('abcd');
  });

  it('lets a backslash escape *, ? and backslash, and drops it before } and /', () => {
    expect(trimMatchedPrefix(re('\\*\\?\\\\', true, true), '*?\\x')).toBe('x');
    expect(trimMatchedPrefix(re('\\}\\/', true, true), '}/x')).toBe('x');
  });

  it.each([
    ['\\a', "invalid escape '\\a'"],
    ['a\\', "invalid escape '\\\uFFFD'"],
    ['\\.', "invalid escape '\\.'"],
  ])('refuses %j: %s', (pattern, error) => {
    expect(compilePattern(pattern, true, true)).toEqual({ ok: false, error });
  });

  it('ignores a leading byte order mark, as Go text/scanner does', () => {
    expect(trimMatchedPrefix(re('\ufeffab', true, true), 'abc')).toBe('c');
  });

  it('returns the same compiled pattern for the same input', () => {
    expect(compilePattern('x*', true, false)).toBe(compilePattern('x*', true, false));
    expect(compilePattern('x*', false, false)).not.toBe(compilePattern('x*', true, false));
  });
});

describe('reversal', () => {
  it('reverses by code point', () => {
    expect(reverseString('ab😀é')).toBe('é😀ba');
  });
  it.each([
    ['abc', 'cba'],
    ['a\\*b', 'b\\*a'],
    ['\\\\x', 'x\\\\'],
    ['x\\', '\\x'],
    ['😀\\?é', 'é\\?😀'],
  ])('reversePattern(%j) = %j, escape pairs kept in order', (pattern, want) => {
    expect(reversePattern(pattern)).toBe(want);
  });
});

describe('replacement', () => {
  it('replaceFirst takes the replacement literally', () => {
    expect(replaceFirst(re('b'), 'abcb', '[$0]')).toBe('a[$0]cb');
  });
  it('replaceAll expands $0, ${0} and $$, and drops other names', () => {
    expect(replaceAll(re('b'), 'abcb', '[$0|${0}|$$|$1|${x}|$00]')).toBe('a[b|b|$|||]c[b|b|$|||]');
  });
  it('replaceAll keeps a malformed $ reference as text', () => {
    expect(replaceAll(re('b'), 'ab', '$-${x$')).toBe('a$-${x$');
  });
  it('replaceAll skips an empty match that directly follows a match', () => {
    expect(replaceAll(re('*'), 'abc', '-')).toBe('-');
    expect(replaceAll(re(''), 'ab', '-')).toBe('-a-b-');
    expect(replaceAll(re(''), '', '-')).toBe('-');
    expect(replaceAll(re('?'), '😀é', '.')).toBe('..');
  });
});
