/**
 * Go's `path/filepath.Match` on Linux, which BuildKit uses for COPY/ADD source wildcards:
 * `*` any run of non-`/` characters, `?` one non-`/` character, `[...]` a class (`^` negates,
 * `a-z` ranges), `\` escapes the next character. A malformed pattern is an error.
 *
 * Exact on one path component, which is how COPY matches (wildcards.ts): fuzzed against Go's
 * rules in go-match.property.test.ts. Two corners of Go are not followed: Go skips a star over
 * bytes, so `?` or a negated class can match inside a multi-byte character there (`*??`
 * matches "😀"), and across a `/` that a class matched, Go keeps each star's first fit where
 * this backtracks. Neither can happen on a component without multi-byte names matched so.
 */
import { BuildError } from '../../../errors/index.js';

/** A compiled pattern; `test` matches a whole slash-separated name. */
export interface GoPattern {
  readonly source: string;
  test(name: string): boolean;
}

/** Does `name` contain an unescaped `*`, `?` or `[` (BuildKit's containsWildcards)? */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** Compile a Go match pattern. Throws BuildError COPY_FAILED on a malformed one (Go's ErrBadPattern). */
export function compileGoPattern(pattern: string): GoPattern {
  const re = new RegExp('^' + translate(pattern) + '$', 'su');
  return { source: pattern, test: (name) => re.test(name) };
}

function badPattern(pattern: string): never {
  throw new BuildError('COPY_FAILED', `syntax error in pattern: ${JSON.stringify(pattern)}`, {
    hint: 'Wildcards follow Go filepath.Match: *, ?, [a-z], [^a-z]; escape a literal [ as \\[ or [[].',
  });
}

/**
 * A literal character in the pattern's regular expression. Unicode mode allows `\-` only
 * inside a class, so a `-` outside one goes as it is (`a-?.txt` must compile).
 */
function escapeRegex(ch: string, inClass = false): string {
  return (inClass ? /[\\^$.*+?()[\]{}|/-]/ : /[\\^$.*+?()[\]{}|/]/).test(ch) ? '\\' + ch : ch;
}

/** Pattern to regular-expression source, validating it as Go does (whole pattern, code points). */
function translate(pattern: string): string {
  const chars = Array.from(pattern);
  let out = '';
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '*') {
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= chars.length) badPattern(pattern);
      out += escapeRegex(chars[i + 1]!);
      i += 2;
    } else if (c === '[') {
      i++;
      let negated = false;
      if (chars[i] === '^') {
        negated = true;
        i++;
      }
      const ranges: string[] = [];
      let first = true;
      for (;;) {
        if (i >= chars.length) badPattern(pattern);
        if (chars[i] === ']' && !first) {
          i++;
          break;
        }
        first = false;
        const [lo, afterLo] = classChar(chars, i, pattern);
        i = afterLo;
        let hi = lo;
        if (chars[i] === '-') {
          const [h, afterHi] = classChar(chars, i + 1, pattern);
          hi = h;
          i = afterHi;
        }
        // Go takes hi < lo as a range matching nothing (a regular expression would refuse it).
        if (hi.codePointAt(0)! < lo.codePointAt(0)!) continue;
        ranges.push(hi === lo ? escapeRegex(lo, true) : `${escapeRegex(lo, true)}-${escapeRegex(hi, true)}`);
      }
      // As in Go, a class takes any one character, the separator too (only `*` and `?` stop at
      // it); `[]` matches nothing and `[^]` anything.
      out += negated ? `[^${ranges.join('')}]` : `[${ranges.join('')}]`;
    } else {
      out += escapeRegex(c);
      i++;
    }
  }
  return out;
}

/** One class member (Go's getEsc): `-` and `]` must be escaped to be literal. */
function classChar(chars: readonly string[], i: number, pattern: string): [string, number] {
  const c = chars[i];
  if (c === undefined || c === '-' || c === ']') badPattern(pattern);
  if (c === '\\') {
    const next = chars[i + 1];
    if (next === undefined) badPattern(pattern);
    return [next, i + 2];
  }
  return [c, i + 1];
}
