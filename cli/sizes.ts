/** Sizes on the command line, read as docker reads them (go-units RAMInBytes). */
import { usageError } from './args.js';

const SIZE = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * `10MB`, `1.5GB`, `512k`, `2 GiB`, `1048576`: a number (decimals allowed), at most one space,
 * then an optional unit k, m, g, t or p in any case, with an optional `i` and `b`. Units are
 * powers of 1024 whatever the spelling, as with docker's flags; the result is whole bytes.
 */
export function parseDockerSize(flag: string, s: string): number {
  const m = SIZE.exec(s);
  const number = m === null || m[1]!.split('.').length > 2 ? NaN : Number(m[1]);
  if (m === null || Number.isNaN(number)) throw usageError(`invalid size for --${flag}: '${s}'`, 'write bytes, or a number with a unit: 512MB, 1.5GB, 10g');
  return Math.floor(number * UNITS[(m[2] ?? '').toLowerCase()]!);
}
