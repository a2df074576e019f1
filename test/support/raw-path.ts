/** Paths with names that are not UTF-8, for tests that make and check them by their bytes. */

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
