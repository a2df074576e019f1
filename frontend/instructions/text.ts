/** Go string helpers for ordinary (decoded) JS strings. */

/** Go's unicode.IsSpace set (JS's \s also holds U+FEFF, which Go does not trim). */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/** strings.TrimSpace */
export function goTrimSpace(s: string): string {
  return s.replace(TRIM, '');
}

/** sort.Strings: byte-wise order of the UTF-8 encodings. */
export function sortByBytes(words: readonly string[]): string[] {
  return [...words].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
