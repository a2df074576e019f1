import { describe, expect, it } from 'vitest';
import { findGlobSyntaxError } from './glob-syntax.js';

describe('findGlobSyntaxError (Go filepath.Match syntax)', () => {
  it.each([
    'plain/path.txt',
    '*.log',
    'cache/??/*',
    '[abc]x',
    '[^abc]x',
    '[!abc]', // `!` is an ordinary member in Go, not a negation
    '[a-z0-9]',
    '[\\]x]',
    '[\\-]',
    '[q\\-]',
    '[[]',
    '[*]',
    'lit\\*eral',
    'a]b',
    '[é-ü]',
    '[😀]',
  ])('accepts %j', (pattern) => {
    expect(findGlobSyntaxError(pattern)).toBeUndefined();
  });

  it.each([
    ['[', 'unterminated'],
    ['x[', 'unterminated'],
    ['[^', 'unterminated'],
    ['[^qr', 'unterminated'],
    ['logs/[0-9', 'unterminated'],
    ['[]', 'empty'],
    ['[]x]', 'empty'],
    ['[^]x]', 'empty'],
    ['[-q]', 'no start'],
    ['[q-]', 'no end'],
    ['[a-b-c]', 'no start'],
    ['trailing\\', 'backslash'],
    ['[x\\', 'unterminated'],
    ['*[', 'unterminated'],
    ['ok/*/bad[', 'unterminated'],
  ])('rejects %j (%s)', (pattern, reason) => {
    expect(findGlobSyntaxError(pattern)?.reason).toContain(reason);
  });

  it('points at the class that is not closed', () => {
    expect(findGlobSyntaxError('abc/[xy')?.offset).toBe(4);
  });
});
