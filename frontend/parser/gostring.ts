/**
 * Go string semantics on "binary strings" (one JS char per byte, 0–255).
 *
 * BuildKit's parser works on Go strings, which are byte sequences that are only sometimes
 * decoded as UTF-8 (invalid bytes decode to U+FFFD one byte at a time). To reproduce its
 * output byte for byte — including for files with invalid UTF-8 — the parser keeps every
 * value as a binary string and decodes exactly where Go decodes.
 */
import { isGoSpace } from '../../patternmatcher/index.js';

export const RUNE_ERROR = 0xfffd;

/** Decode one rune at byte offset i the way Go's utf8.DecodeRuneInString does: [rune, width]. */
export function decodeRune(s: string, i: number): [number, number] {
  const b0 = s.charCodeAt(i);
  if (b0 < 0x80) return [b0, 1];
  const n = s.length;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const b1 = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (b1 >= 0x80 && b1 <= 0xbf) return [((b0 & 0x1f) << 6) | (b1 & 0x3f), 2];
    return [RUNE_ERROR, 1];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf; // no surrogates
    const b1 = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (b1 < lo || b1 > hi) return [RUNE_ERROR, 1];
    const b2 = i + 2 < n ? s.charCodeAt(i + 2) : -1;
    if (b2 < 0x80 || b2 > 0xbf) return [RUNE_ERROR, 1];
    return [((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f), 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    const b1 = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (b1 < lo || b1 > hi) return [RUNE_ERROR, 1];
    const b2 = i + 2 < n ? s.charCodeAt(i + 2) : -1;
    if (b2 < 0x80 || b2 > 0xbf) return [RUNE_ERROR, 1];
    const b3 = i + 3 < n ? s.charCodeAt(i + 3) : -1;
    if (b3 < 0x80 || b3 > 0xbf) return [RUNE_ERROR, 1];
    return [((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f), 4];
  }
  return [RUNE_ERROR, 1];
}

/** Go's utf8.EncodeRune as a binary string (invalid runes become U+FFFD). */
export function encodeRune(r: number): string {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = RUNE_ERROR;
  if (r < 0x80) return String.fromCharCode(r);
  if (r < 0x800) return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  if (r < 0x10000) {
    return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  }
  return String.fromCharCode(
    0xf0 | (r >> 18),
    0x80 | ((r >> 12) & 0x3f),
    0x80 | ((r >> 6) & 0x3f),
    0x80 | (r & 0x3f),
  );
}

/** Go's unicode.IsSpace, shared with the pattern matcher (patternmatcher/go-text.ts). */
export { isGoSpace };

/** bytes.TrimLeftFunc(s, unicode.IsSpace) */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length) {
    const [r, w] = decodeRune(s, i);
    if (!isGoSpace(r)) break;
    i += w;
  }
  return i === 0 ? s : s.slice(i);
}

/** Byte offset after the last rune that is not a space (Go's TrimRightFunc). */
function rightSpaceStart(s: string): number {
  let end = s.length;
  while (end > 0) {
    // Find the start of the last rune: step back over continuation bytes, as Go's DecodeLastRune.
    let start = end - 1;
    const lim = Math.max(0, end - 4);
    while (start > lim && (s.charCodeAt(start) & 0xc0) === 0x80) start--;
    let [r, w] = decodeRune(s, start);
    if (start + w !== end) {
      r = RUNE_ERROR;
      w = 1;
      start = end - 1;
    }
    if (!isGoSpace(r)) break;
    end = start;
  }
  return end;
}

/** strings.TrimSpace */
export function trimSpace(s: string): string {
  const t = trimLeftSpace(s);
  const end = rightSpaceStart(t);
  return end === t.length ? t : t.slice(0, end);
}

/** Go's unicode.ToLower for one rune (simple case mapping). */
function lowerRune(r: number): number {
  if (r < 0x80) return r >= 0x41 && r <= 0x5a ? r + 32 : r;
  if (r === 0x130) return 0x69; // İ: Go maps to plain i; JS's special casing adds a dot
  const c = String.fromCodePoint(r);
  const l = c.toLowerCase();
  const lr = l.codePointAt(0)!;
  // Only single-rune mappings are simple case mappings.
  return l.length === c.length || String.fromCodePoint(lr) === l ? lr : r;
}

/** strings.ToLower: invalid bytes become U+FFFD when the string is not pure ASCII. */
export function goToLower(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.toLowerCase();
  let out = '';
  for (let i = 0; i < s.length; ) {
    const [r, w] = decodeRune(s, i);
    out += encodeRune(lowerRune(r));
    i += w;
  }
  return out;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** strconv.IsPrint */
function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  return PRINTABLE.test(String.fromCodePoint(r));
}

const HEX = '0123456789abcdef';

/** strconv.Quote of a binary string, returned as a binary string. */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; ) {
    const b = s.charCodeAt(i);
    if (b < 0x80) {
      i++;
      if (b === 0x22) out += '\\"';
      else if (b === 0x5c) out += '\\\\';
      else if (b >= 0x20 && b < 0x7f) out += s[i - 1];
      else if (b === 0x07) out += '\\a';
      else if (b === 0x08) out += '\\b';
      else if (b === 0x0c) out += '\\f';
      else if (b === 0x0a) out += '\\n';
      else if (b === 0x0d) out += '\\r';
      else if (b === 0x09) out += '\\t';
      else if (b === 0x0b) out += '\\v';
      else out += '\\x' + HEX[b >> 4] + HEX[b & 15];
      continue;
    }
    const [r, w] = decodeRune(s, i);
    if (r === RUNE_ERROR && w === 1) {
      out += '\\x' + HEX[b >> 4] + HEX[b & 15];
    } else if (isPrint(r)) {
      out += s.slice(i, i + w);
    } else if (r < 0x10000) {
      out += '\\u' + r.toString(16).padStart(4, '0');
    } else {
      out += '\\U' + r.toString(16).padStart(8, '0');
    }
    i += w;
  }
  return out + '"';
}

/** Decode a binary string as UTF-8 into an ordinary JS string (invalid bytes → U+FFFD). */
export function fromBinary(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  return ascii ? s : Buffer.from(s, 'latin1').toString('utf8');
}

/** Encode a JS string as UTF-8 into a binary string. */
export function toBinary(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/** The number of UTF-16 code units of the decoded text of a binary-string prefix. */
export function utf16Length(s: string): number {
  return fromBinary(s).length;
}
