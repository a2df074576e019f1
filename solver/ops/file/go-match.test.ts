import { describe, expect, it } from 'vitest';
import { compileGoPattern, containsWildcards } from './go-match.js';

describe('compileGoPattern (Go filepath.Match)', () => {
  it.each([
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abe', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'z', false],
    // As Go: a range whose ends are out of order matches nothing, and is no error.
    ['[z-a]', 'm', false],
    ['[^z-a]', 'm', true],
    // A `-` outside a class is a plain character (it once made an invalid regular expression).
    ['a-?.txt', 'a-b.txt', true],
    ['a\\-b', 'a-b', true],
    ['repo.git?keep-git-dir=true', 'repo.git?keep-git-dir=true', true],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(compileGoPattern(pattern).test(name)).toBe(expected);
  });

  it.each(['[', '[^', '[^bc', 'a[', '[]a]', '[-]', '[x-]', '[a-b-c]', '\\', 'a\\'])('rejects %s', (pattern) => {
    expect(() => compileGoPattern(pattern)).toThrow(/syntax error in pattern/);
  });

  it('finds unescaped wildcards only', () => {
    expect(containsWildcards('a*')).toBe(true);
    expect(containsWildcards('a\\*')).toBe(false);
    expect(containsWildcards('[ab]')).toBe(true);
    expect(containsWildcards('plain/path')).toBe(false);
  });
});
