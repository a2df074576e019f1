/**
 * How Docker's pattern matcher (moby/patternmatcher) turns one cleaned pattern into a test:
 * a plain string comparison when it can (exact; prefix for `dir/**`; suffix for a leading `**`)
 * and a Go (RE2) regular expression otherwise. The regular expression text is reproduced byte for byte,
 * quirks included, because its meaning is what Docker matches with; re2-to-js.ts then gives it
 * the same meaning in JavaScript.
 */

export type DockerPatternKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

export interface DockerPatternForm {
  readonly kind: DockerPatternKind;
  /** The RE2 source Docker would compile; meaningful only when kind is 'regexp'. */
  readonly re2: string;
}

/**
 * Characters Docker escapes before handing the pattern to RE2. Docker's escape table is an
 * 8-byte bitmap indexed in a way that silently drops every character from code 64 up, so of
 * `.+()|{}$` only `.+()$` are escaped: `|`, `{` and `}` reach RE2 raw and act as alternation
 * and repetition in a pattern that is a regexp for another reason (e.g. it has a `*`).
 */
const ESCAPED_FOR_RE2 = new Set(['.', '+', '(', ')', '$']);

export function dockerPatternForm(pattern: string): DockerPatternForm {
  const chars = Array.from(pattern); // by code point, as Go's scanner reads runes
  let re2 = '^';
  let kind: DockerPatternKind = 'exact';
  let k = 0;
  for (let token = 0; k < chars.length; token++) {
    const ch = chars[k++]!;
    if (ch === '*') {
      if (chars[k] === '*') {
        k++;
        if (chars[k] === '/') k++; // `**/` is read as `**`
        if (k >= chars.length) {
          // A trailing `**` accepts everything below; a plain prefix when nothing came before.
          if (kind === 'exact') kind = 'prefix';
          else {
            re2 += '.*';
            kind = 'regexp';
          }
        } else {
          re2 += '(.*/)?';
          kind = 'regexp';
        }
        // A leading `**` makes it a suffix test (overridden if a later token needs a regexp).
        if (token === 0) kind = 'suffix';
      } else {
        re2 += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re2 += '[^/]';
      kind = 'regexp';
    } else if (ESCAPED_FOR_RE2.has(ch)) {
      re2 += '\\' + ch;
    } else if (ch === '\\') {
      // The escaped character goes to RE2 still escaped, so `\d` means a digit to Docker.
      if (k < chars.length) {
        re2 += '\\' + chars[k++]!;
        kind = 'regexp';
      } else {
        re2 += '\\';
      }
    } else if (ch === '[' || ch === ']') {
      re2 += ch;
      kind = 'regexp';
    } else {
      re2 += ch;
    }
  }
  if (kind === 'regexp') re2 += '$';
  return { kind, re2 };
}
