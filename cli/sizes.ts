/** Sizes on the command line, read as docker reads them: go-units' RAMInBytes, the frontend's one reading. */
import { ramInBytes } from '../build/index.js';
import { usageError } from './args.js';

/**
 * `10MB`, `1.5GB`, `512k`, `2 GiB`, `1048576`: a number, at most one space, then an optional
 * unit k, m, g, t or p in any case, with an optional `i` and `b`. Units are powers of 1024
 * whatever the spelling, as with docker's flags; the result is whole bytes.
 */
export function parseDockerSize(flag: string, s: string): number {
  const bytes = ramInBytes(s);
  if (typeof bytes === 'string') throw usageError(`invalid size for --${flag}: '${s}'`, 'write bytes, or a number with a unit: 512MB, 1.5GB, 10g');
  return bytes;
}
