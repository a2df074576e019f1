/**
 * The syntax check Docker runs on every pattern: Go's `filepath.Match(pattern, ".")`, which
 * fails only on a malformed pattern. Go's rules, not POSIX ones: `^` (not `!`) negates a class,
 * a class can neither be empty nor start with `]` or `-`, a range needs both ends, and `\`
 * escapes the next character (a trailing `\` is an error).
 */

export interface GlobSyntaxError {
  /** What is wrong, as a phrase. */
  readonly reason: string;
  /** UTF-16 offset in the pattern where the problem was found. */
  readonly offset: number;
}

/** The first syntax error of a Go filepath.Match pattern, or undefined when it is well formed. */
export function findGlobSyntaxError(pattern: string): GlobSyntaxError | undefined {
  // Go splits the pattern into chunks at stars outside classes and validates each chunk.
  let i = 0;
  while (i < pattern.length) {
    while (i < pattern.length && pattern[i] === '*') i++;
    const end = chunkEnd(pattern, i);
    const error = checkChunk(pattern, i, end);
    if (error) return error;
    i = end;
  }
  return undefined;
}

/** Where a chunk starting at `start` ends: at the first `*` outside brackets (Go's scanChunk). */
function chunkEnd(pattern: string, start: number): number {
  let inRange = false;
  let i = start;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 < pattern.length) i++;
    } else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return i;
}

function checkChunk(p: string, start: number, end: number): GlobSyntaxError | undefined {
  let i = start;
  while (i < end) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 >= end) return { reason: 'trailing backslash escapes nothing', offset: i };
      i += 2;
    } else if (c === '[') {
      const classStart = i;
      i++;
      if (i < end && p[i] === '^') i++;
      let ranges = 0;
      for (;;) {
        if (i < end && p[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar(p, i, end, classStart, ranges === 0 ? 'first' : 'item');
        if (typeof lo !== 'number') return lo;
        i = lo;
        if (p[i] === '-') {
          const hi = classChar(p, i + 1, end, classStart, 'range-end');
          if (typeof hi !== 'number') return hi;
          i = hi;
        }
        ranges++;
      }
    } else {
      i++;
    }
  }
  return undefined;
}

/**
 * One possibly escaped character inside a class (Go's getEsc): returns the offset after it, or
 * an error. Like Go, a class character must be followed by something (at least the `]`).
 */
function classChar(
  p: string,
  i: number,
  end: number,
  classStart: number,
  position: 'first' | 'item' | 'range-end',
): number | GlobSyntaxError {
  const unterminated = { reason: 'unterminated character class "["', offset: classStart };
  if (i >= end) return unterminated;
  const c = p[i];
  if (c === ']') {
    return position === 'first'
      ? { reason: 'empty character class "[]"', offset: classStart }
      : { reason: 'character range has no end', offset: i };
  }
  if (c === '-') {
    return { reason: 'character range has no start (put "-" after a character)', offset: i };
  }
  if (c === '\\') {
    i++;
    if (i >= end) return unterminated;
  }
  const code = p.codePointAt(i)!;
  if (code >= 0xd800 && code <= 0xdfff) return { reason: 'invalid UTF-8 in character class', offset: i };
  i += code > 0xffff ? 2 : 1;
  if (i >= end) return unterminated;
  return i;
}
