/**
 * Shell patterns for ${a#p} ${a%p} ${a/p/r}, with BuildKit's rules: `*` and `?` are the only
 * wildcards (no bracket expressions), `\` escapes only `*`, `?` and `\`, and a `\` before `}`
 * or `/` is dropped. BuildKit turns a pattern into a Go regexp; we build the equivalent
 * JavaScript one (`[^\n]` because Go's `.` matches everything but a newline).
 */
import { EOF, codePointAt, goRuneString, isGoDigit, isGoLetter, width } from './chars.js';

export type Compiled = { readonly ok: true; readonly re: RegExp } | { readonly ok: false; readonly error: string };

const BACKSLASH = 0x5c;
const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/;
const BOM = 0xfeff;

const cache = new Map<string, Compiled>();
const CACHE_LIMIT = 512;

/**
 * `greedy` makes `*` match the longest string; `anchored` matches only at the start.
 * The RegExp has the `g` flag: callers set `lastIndex` before each `exec`.
 */
export function compilePattern(pattern: string, greedy: boolean, anchored: boolean): Compiled {
  const key = (greedy ? 'g' : 'n') + (anchored ? 'a' : 'u') + pattern;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = translate(pattern, greedy, anchored);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

function translate(pattern: string, greedy: boolean, anchored: boolean): Compiled {
  let src = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  // Go's text/scanner, which BuildKit reads the pattern with, skips a leading byte order mark.
  let i = codePointAt(pattern, 0) === BOM ? 1 : 0;
  while (i < pattern.length) {
    let cp = pattern.codePointAt(i)!;
    i += width(cp);
    if (cp === 0x2a) {
      src += star;
      continue;
    }
    if (cp === 0x3f) {
      src += '[^\\n]';
      continue;
    }
    if (cp === BACKSLASH) {
      const next = codePointAt(pattern, i);
      if (next === 0x7d || next === 0x2f) continue; // `\}` and `\/` only protect the ${} syntax
      if (next === EOF || (next !== 0x2a && next !== 0x3f && next !== BACKSLASH)) {
        return { ok: false, error: `invalid escape '\\${goRuneString(next)}'` };
      }
      i += width(next);
      cp = next;
    }
    const ch = String.fromCodePoint(cp);
    src += REGEX_SPECIAL.test(ch) ? '\\' + ch : ch;
  }
  return { ok: true, re: new RegExp(src, 'gu') };
}

/** Go's regexp FindStringIndex from `from`: [start, end) of the leftmost match, or undefined. */
function find(re: RegExp, value: string, from: number): readonly [number, number] | undefined {
  re.lastIndex = from;
  const m = re.exec(value);
  return m === null ? undefined : [m.index, m.index + m[0].length];
}

/** Removes the match of an anchored regexp from the start of `value`. */
export function trimMatchedPrefix(re: RegExp, value: string): string {
  const m = find(re, value, 0);
  return m === undefined ? value : value.slice(m[1]);
}

/** Code-point reversal (Go reverses runes). */
export function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/**
 * Reverses a pattern but keeps each `\x` pair in order, so that a suffix search can run as a
 * prefix search on the reversed value. A trailing lone `\` stays a lone `\` (now leading).
 */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const ch = chars[i]!;
    if (ch === '\\' && i !== last) {
      out[last - i - 1] = ch;
      out[last - i] = chars[i + 1]!;
      i += 2;
    } else {
      out[last - i] = ch;
      i++;
    }
  }
  return out.join('');
}

/** Replaces the leftmost match; the replacement is taken literally. */
export function replaceFirst(re: RegExp, value: string, replacement: string): string {
  const m = find(re, value, 0);
  return m === undefined ? value : value.slice(0, m[0]) + replacement + value.slice(m[1]);
}

/**
 * Go's Regexp.ReplaceAllString: `$0`/`${0}` in the replacement stand for the match, `$$` for
 * `$`, other well-formed `$name`s for nothing (our regexps have no groups). An empty match
 * right after a previous match is not replaced, unlike String.prototype.replace.
 */
export function replaceAll(re: RegExp, value: string, replacement: string): string {
  const template = parseTemplate(replacement);
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    const m = find(re, value, searchPos);
    if (m === undefined) break;
    const [start, end] = m;
    out += value.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expandTemplate(template, value.slice(start, end));
    lastEnd = end;
    const step = searchPos < value.length ? width(value.codePointAt(searchPos)!) : 1;
    searchPos = searchPos + step > end ? searchPos + step : end;
  }
  return out + value.slice(lastEnd);
}

/** Literal text, with `null` where the whole match goes. */
type Template = readonly (string | null)[];

function expandTemplate(template: Template, match: string): string {
  if (template.length === 1 && template[0] !== null) return template[0]!;
  let out = '';
  for (const part of template) out += part ?? match;
  return out;
}

function parseTemplate(t: string): Template {
  if (!t.includes('$')) return [t];
  const parts: (string | null)[] = [];
  let text = '';
  let i = 0;
  while (i < t.length) {
    const dollar = t.indexOf('$', i);
    if (dollar < 0) break;
    text += t.slice(i, dollar);
    i = dollar + 1;
    if (t.charCodeAt(i) === 0x24) {
      text += '$';
      i++;
      continue;
    }
    const ref = readTemplateName(t, i);
    if (ref === undefined) {
      text += '$'; // malformed: the `$` is literal
      continue;
    }
    i = ref.end;
    if (ref.name === '0') {
      parts.push(text, null);
      text = '';
    }
  }
  parts.push(text + t.slice(i));
  return parts;
}

/** `name` or `{name}` at `i`, name being letters, digits and underscores; as Go's regexp reads it. */
function readTemplateName(t: string, i: number): { name: string; end: number } | undefined {
  const brace = t.charCodeAt(i) === 0x7b;
  const start = brace ? i + 1 : i;
  let j = start;
  while (j < t.length) {
    const cp = t.codePointAt(j)!;
    if (cp !== 0x5f && !isGoLetter(cp) && !isGoDigit(cp)) break;
    j += width(cp);
  }
  if (j === start) return undefined;
  const name = t.slice(start, j);
  if (brace) {
    if (t.charCodeAt(j) !== 0x7d) return undefined;
    j++;
  }
  return { name, end: j };
}
