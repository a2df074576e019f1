import { describe, expect, it } from 'vitest';
import { parseDockerSize } from './sizes.js';

describe('parseDockerSize (as docker reads --keep-storage)', () => {
  it.each([
    ['0', 0],
    ['1048576', 1048576],
    ['10MB', 10 * 1024 * 1024],
    ['10mb', 10 * 1024 * 1024],
    ['10MiB', 10 * 1024 * 1024],
    ['10m', 10 * 1024 * 1024],
    ['1.5GB', 1.5 * 1024 ** 3],
    ['2 GiB', 2 * 1024 ** 3],
    ['512k', 512 * 1024],
    ['100b', 100],
    ['1.5k', 1536],
    ['1t', 1024 ** 4],
    // go-units reads the number with Go's ParseFloat, exponents included, as docker does.
    ['1e3', 1000],
  ])('%s is %d bytes', (s, n) => {
    expect(parseDockerSize('keep-storage', s)).toBe(n);
  });

  it.each(['', 'MB', '-1', '10 MB ', ' 10MB', '10  MB', '1.2.3MB', '10XB', '10mbb'])('refuses %j', (s) => {
    expect(() => parseDockerSize('keep-storage', s)).toThrow(`invalid size for --keep-storage: '${s}'`);
  });
});
