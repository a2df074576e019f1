/** Paths with names that are not UTF-8, for tests that make and check them by their bytes. */
import { readdirSync } from 'node:fs';

/** One piece of a path: a string as its UTF-8, an array of numbers as those raw bytes. */
export type PathPart = string | readonly number[];

/** The bytes of a path made of `parts`: rawPath('/ctx/b', [0xff]) is the path /ctx/b\xff. */
export function rawPath(...parts: readonly PathPart[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
}

/** rawPath below directory `dir`: rawPathIn('/ctx', 'b', [0xff]) is /ctx/b\xff. */
export function rawPathIn(dir: string, ...parts: readonly PathPart[]): Buffer {
  return rawPath(`${dir}/`, ...parts);
}

/** The names in directory `dir` as their bytes, in byte order. */
export function rawNames(dir: string | Buffer): Buffer[] {
  return readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
}

/** The newline-terminated lines of a program's output, as their bytes (e.g. `tar -tf` names). */
export function rawLines(output: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let from = 0, nl = output.indexOf(10); nl >= 0; from = nl + 1, nl = output.indexOf(10, from)) lines.push(output.subarray(from, nl));
  return lines;
}
