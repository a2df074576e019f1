/** Go string helpers for ordinary (decoded) JS strings. */

/** strings.TrimSpace: one definition for the frontend, tested beside it. */
export { goTrimSpace } from '../../patternmatcher/index.js';

/** sort.Strings: byte-wise order of the UTF-8 encodings. */
export function sortByBytes(words: readonly string[]): string[] {
  return [...words].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
