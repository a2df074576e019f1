/** Go's strconv.Quote (what `%q` prints), for BuildKit's "failed to process %q" messages. */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const CONTROL_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
  [0x0b, '\\v'],
]);

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

export function goQuote(s: string): string {
  let out = '"';
  let runStart = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    const plain =
      cp < 0x80 ? cp >= 0x20 && cp < 0x7f && cp !== 0x22 && cp !== 0x5c : PRINTABLE.test(String.fromCodePoint(cp));
    if (!plain) {
      out += s.slice(runStart, i);
      runStart = i + w;
      if (cp === 0x22 || cp === 0x5c) out += '\\' + String.fromCharCode(cp);
      else if (CONTROL_ESCAPES.has(cp)) out += CONTROL_ESCAPES.get(cp)!;
      else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
      else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
      else out += '\\U' + hex(cp, 8);
    }
    i += w;
  }
  return out + s.slice(runStart) + '"';
}
