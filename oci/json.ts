/**
 * JSON bytes as Go's encoding/json writes them, because image configs and manifests are
 * hashed: the same object must give the same digest as BuildKit's. Key order is the order of
 * the object literal (callers build objects in the Go struct / sorted-map order); `<`, `>`,
 * `&`, U+2028 and U+2029 are escaped as Go escapes them.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function goJsonBytes(value: unknown): Buffer {
  return Buffer.from(goJson(value), 'utf8');
}

/**
 * A time as Go's RFC 3339 with nanoseconds, trailing zeros trimmed: `2024-01-02T03:04:05Z`,
 * `2024-01-02T03:04:05.5Z`.
 */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}
