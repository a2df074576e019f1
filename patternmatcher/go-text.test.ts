import { describe, expect, it } from 'vitest';
import { goClean, goTrimSpace } from './go-text.js';

describe('goClean', () => {
  it.each([
    ['', '.'],
    ['.', '.'],
    ['./', '.'],
    ['a//b', 'a/b'],
    ['a/./b/', 'a/b'],
    ['./src/app', 'src/app'],
    ['a/b/../c', 'a/c'],
    ['a/..', '.'],
    ['../x', '../x'],
    ['../../x/..', '../..'],
    ['a/../../b', '../b'],
    ['/', '/'],
    ['//', '/'],
    ['/..', '/'],
    ['/../etc', '/etc'],
    ['/tmp/', '/tmp'],
    ['!x/..', '.'],
    ['x/ /..', 'x'],
    ['x /y/..', 'x '],
  ])('cleans %j to %j', (input, expected) => {
    expect(goClean(input)).toBe(expected);
  });
});

describe('goTrimSpace', () => {
  it('trims ASCII white space, NEL and NBSP like Go', () => {
    expect(goTrimSpace(' \t\v\f\r\n a b \u0085\u00a0')).toBe('a b');
  });
  it('trims Unicode spaces such as U+3000 and U+2028', () => {
    expect(goTrimSpace('\u3000x\u2028')).toBe('x');
  });
  it('keeps U+FEFF, which JavaScript trim() would remove', () => {
    expect(goTrimSpace('\uFEFFx')).toBe('\uFEFFx');
    expect(goTrimSpace('   ')).toBe('');
  });
});
