/**
 * The two Go standard-library string rules that shape a .dockerignore pattern before it is
 * matched: `strings.TrimSpace` and `filepath.Clean` (Linux flavour, i.e. `path.Clean`).
 * JavaScript's own `trim()` differs from Go's (it trims U+FEFF but not U+0085), so Docker's
 * results are only reproduced with these.
 */

/** Go's unicode.IsSpace: the Unicode White_Space property. */
export function isGoSpace(r: number): boolean {
  if (r <= 0xff) {
    return r === 0x20 || (r >= 0x09 && r <= 0x0d) || r === 0x85 || r === 0xa0;
  }
  return (
    r === 0x1680 ||
    (r >= 0x2000 && r <= 0x200a) ||
    r === 0x2028 ||
    r === 0x2029 ||
    r === 0x202f ||
    r === 0x205f ||
    r === 0x3000
  );
}

/** Index of the first character that is not Go white space, or `s.length`. */
export function goTrimStartIndex(s: string): number {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the last character that is not Go white space, or 0. */
export function goTrimEndIndex(s: string): number {
  let j = s.length;
  while (j > 0 && isGoSpace(s.charCodeAt(j - 1))) j--;
  return j;
}

/** strings.TrimSpace. (All Go space characters are in the BMP, so code units suffice.) */
export function goTrimSpace(s: string): string {
  const i = goTrimStartIndex(s);
  return i === s.length ? '' : s.slice(i, goTrimEndIndex(s));
}

/**
 * path.Clean: collapse repeated slashes, drop `.` elements, resolve `..` against the element
 * before it (a leading `..` stays on a relative path, vanishes on a rooted one), drop a
 * trailing slash; the empty result is ".".
 */
export function goClean(path: string): string {
  if (path === '') return '.';
  const rooted = path.charCodeAt(0) === 0x2f;
  const out: string[] = [];
  let leadingDotDots = 0; // `..` elements at the front of a relative path cannot be removed
  for (const element of path.split('/')) {
    if (element === '' || element === '.') continue;
    if (element === '..') {
      if (out.length > leadingDotDots) out.pop();
      else if (!rooted) {
        out.push('..');
        leadingDotDots++;
      }
      continue;
    }
    out.push(element);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}
