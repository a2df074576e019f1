import { describe, expect, it } from 'vitest';
import { parseChmod } from '../../../frontend/instructions/index.js';
import { applyChmod } from './file-mode.js';

describe('applyChmod', () => {
  const apply = (m: string, mode: number, dir = false): string => applyChmod(parseChmod(m), mode, dir).toString(8);
  it('applies octal modes, keeping file-type bits', () => {
    expect(apply('0755', 0o100644)).toBe('100755');
  });
  it('adds, removes and sets permissions', () => {
    expect(apply('u+x', 0o644)).toBe('744');
    expect(apply('+x', 0o644)).toBe('755');
    expect(apply('g-w,o-r', 0o664)).toBe('640');
    expect(apply('go=', 0o777)).toBe('700');
    expect(apply('a=r', 0o4777)).toBe('444');
    expect(apply('u=rw,go=r', 0o777)).toBe('644');
    expect(apply('u+w-x', 0o500)).toBe('600');
  });
  it('applies X only to directories and executables', () => {
    expect(apply('a+X', 0o644)).toBe('644');
    expect(apply('a+X', 0o744)).toBe('755');
    expect(apply('a+X', 0o600, true)).toBe('711');
    expect(apply('a-X', 0o755)).toBe('644');
  });
  it('copies permissions from another class', () => {
    expect(apply('g=u', 0o740)).toBe('770');
    expect(apply('o+g', 0o750)).toBe('755');
    expect(apply('go-u', 0o777)).toBe('700');
  });
  it('sets special bits', () => {
    expect(apply('u+s', 0o755)).toBe('4755');
    expect(apply('g+s', 0o755)).toBe('2755');
    expect(apply('+t', 0o777, true)).toBe('1777');
    expect(apply('o+t', 0o777, true)).toBe('777');
    expect(apply('o+s', 0o755)).toBe('755');
  });
});
