/**
 * Per-instruction argument splitting, with BuildKit's rules for each keyword: JSON arrays,
 * whitespace-separated words, `key=value` pairs (ENV, LABEL), name-or-name=value words (ARG),
 * the rest of the line as one string, HEALTHCHECK's type word, ONBUILD's nested instruction.
 * Everything is a binary string (see gostring.ts).
 */
import { decodeRune, encodeRune, fromBinary, goQuote, isGoSpace, toBinary, trimLeftSpace } from './gostring.js';

/** What an instruction's arguments became. */
export interface SplitArgs {
  readonly args: readonly string[];
  readonly json: boolean;
  /** ONBUILD's nested instruction line, still to be parsed. */
  readonly subcommand?: string;
  /** ENV and LABEL: args are (key, value, separator) triples. */
  readonly pairs?: boolean;
}

/** An error in an instruction's arguments; the caller knows where the instruction is. */
export class ArgsError extends Error {}

const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';
const ASCII_BLANKS = /[\t\v\f\r ]+/;
const NONE: SplitArgs = { args: [], json: false };

type LineParser = (rest: string, escape: string) => SplitArgs;

const dispatch: Record<string, LineParser> = {
  add: maybeJSONToList,
  arg: nameOrNameVal,
  cmd: maybeJSON,
  copy: maybeJSONToList,
  entrypoint: maybeJSON,
  env: (rest, escape) => nameVal(rest, 'ENV', escape),
  expose: whitespaceDelimited,
  from: whitespaceDelimited,
  healthcheck: healthConfig,
  label: (rest, escape) => nameVal(rest, 'LABEL', escape),
  maintainer: restAsString,
  onbuild: (rest) => (rest === '' ? NONE : { args: [], json: false, subcommand: rest }),
  run: maybeJSON,
  shell: maybeJSON,
  stopsignal: restAsString,
  user: restAsString,
  volume: maybeJSONToList,
  workdir: restAsString,
};

/** Keywords BuildKit's parser knows (lower case). */
export const PARSER_KEYWORDS: readonly string[] = Object.keys(dispatch);

/** Split `rest` for the instruction `keyword` (already lower-cased the Go way). */
export function splitArgs(keyword: string, rest: string, escape: string): SplitArgs {
  const parse = dispatch[keyword];
  // The parser keeps unknown instructions with one empty argument; they are rejected later,
  // where the instruction's meaning is decided.
  if (parse === undefined) return { args: [''], json: false };
  return parse(rest, escape);
}

/** Words separated by white space, keeping quotes and escapes (ENV, LABEL, ARG). */
export function parseWords(rest: string, escape: string): string[] {
  const esc = escape.charCodeAt(0);
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = 0;
  let blankOK = false;
  const n = rest.length;
  for (let pos = 0; pos < n; ) {
    let [ch, w] = decodeRune(rest, pos);
    if (!inWord && quote === 0) {
      if (isGoSpace(ch)) {
        pos += w;
        continue;
      }
      inWord = true;
    }
    if (quote === 0) {
      if (isGoSpace(ch)) {
        inWord = false;
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        pos += w;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
      }
      if (ch === esc) {
        if (pos + w === n) {
          pos += w;
          continue; // an escape at the very end is dropped
        }
        // Unquoted, an escape keeps itself and the next character, even a quote.
        word += encodeRune(ch);
        pos += w;
        [ch, w] = decodeRune(rest, pos);
      }
      word += encodeRune(ch);
      pos += w;
      continue;
    }
    // Inside quotes.
    if (ch === quote) quote = 0;
    if (ch === esc && quote !== 0x27) {
      if (pos + w === n) {
        quote = 0;
        pos += w;
        continue;
      }
      pos += w;
      word += encodeRune(ch);
      [ch, w] = decodeRune(rest, pos);
    }
    word += encodeRune(ch);
    pos += w;
  }
  if ((inWord || quote !== 0) && (blankOK || word.length > 0)) words.push(word);
  return words;
}

/** Go's regexp Split for a pattern that cannot match the empty string. */
function splitBlanks(s: string, limit: number): string[] {
  if (s === '') return [''];
  const out: string[] = [];
  const re = new RegExp(ASCII_BLANKS.source, 'g');
  let beg = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (limit > 0 && out.length === limit - 1) break;
    end = m.index;
    out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

function nameVal(rest: string, key: string, escape: string): SplitArgs {
  const words = parseWords(rest, escape);
  if (words.length === 0) return NONE;
  if (!words[0]!.includes('=')) {
    // The legacy form, `ENV key value…`: everything after the first blank is the value.
    const parts = splitBlanks(rest, 2);
    if (parts.length < 2) throw new ArgsError(`${key} must have two arguments`);
    return { args: [parts[0]!, parts[1]!, ''], json: false, pairs: true };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      throw new ArgsError(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    }
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args, json: false, pairs: true };
}

function nameOrNameVal(rest: string, escape: string): SplitArgs {
  return { args: parseWords(rest, escape), json: false };
}

function whitespaceDelimited(rest: string): SplitArgs {
  if (rest === '') return NONE;
  return { args: splitBlanks(rest, -1), json: false };
}

function restAsString(rest: string): SplitArgs {
  return rest === '' ? NONE : { args: [rest], json: false };
}

/** Go's encoding/json refuses documents nested deeper than this. */
const MAX_JSON_DEPTH = 10000;

function jsonDepthExceeded(s: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

type JSONResult = { ok: true; args: string[] } | { ok: false; notStrings: boolean };

/** A JSON array of strings, decoded as Go's encoding/json decodes it. */
function parseJSON(rest: string): JSONResult {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return { ok: false, notStrings: false };
  if (jsonDepthExceeded(text)) return { ok: false, notStrings: false };
  let value: unknown;
  try {
    // Invalid UTF-8 becomes U+FFFD, as Go's decoder does inside strings (and outside them
    // it is a syntax error either way).
    value = JSON.parse(fromBinary(text));
  } catch {
    return { ok: false, notStrings: false };
  }
  if (!Array.isArray(value)) return { ok: false, notStrings: false };
  const args: string[] = [];
  for (const v of value) {
    if (typeof v !== 'string') return { ok: false, notStrings: true };
    // Go replaces an unpaired \uD800-style escape with U+FFFD.
    args.push(toBinary(v.replace(LONE_SURROGATE, '\ufffd')));
  }
  return { ok: true, args };
}

function maybeJSON(rest: string): SplitArgs {
  if (rest === '') return NONE;
  const j = parseJSON(rest);
  if (j.ok) return { args: j.args, json: true };
  if (j.notStrings) throw new ArgsError(NOT_STRING_ARRAY);
  return { args: [rest], json: false };
}

function maybeJSONToList(rest: string): SplitArgs {
  const j = parseJSON(rest);
  if (j.ok) return { args: j.args, json: true };
  if (j.notStrings) throw new ArgsError(NOT_STRING_ARRAY);
  return whitespaceDelimited(rest);
}

/** The byte-wise space test BuildKit applies in HEALTHCHECK (bytes 0x85 and 0xA0 included). */
function isSpaceByte(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
}

function healthConfig(rest: string): SplitArgs {
  let sep = 0;
  while (sep < rest.length && !isSpaceByte(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isSpaceByte(rest.charCodeAt(next))) next++;
  if (sep === 0) return NONE;
  const cmd = maybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}
