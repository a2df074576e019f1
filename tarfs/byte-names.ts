/**
 * File names are bytes; JS strings are UTF-16. A name (or path) whose bytes are valid UTF-8 is
 * its decoded string, as everywhere in Node. One that is not is held without loss as a
 * byte-escaped string: each byte that is not part of a valid UTF-8 sequence becomes the lone
 * surrogate U+DC00 + byte (0x80…0xFF → U+DC80…U+DCFF; ASCII is always valid), the scheme of
 * Python's "surrogateescape". Valid UTF-8 never decodes to a lone surrogate, so the two never
 * meet: joins, comparisons, Map keys and pattern matches work on such a string as on any
 * other. A wildcard or .dockerignore pattern sees an escaped byte as one character that
 * matches only `*`, `?` and negated classes, as Go's filepath.Match and regexp see an invalid
 * byte as one rune (utf8.RuneError): for ASCII patterns the two agree.
 *
 * Where a name leaves JS as bytes (a syscall's path, a hash, a tar header) it goes back to its
 * exact bytes: `fsPath` gives the string itself when it holds no escape (one isWellFormed
 * check, a few ns) and its Buffer otherwise; Node's fs and the addon take either.
 *
 *   const names = readdirNames(dir);                    // 'b\uDCFF' for the name b\xff
 *   writeFileSync(fsPath(`${dir}/${names[0]}`), data);  // the file named b\xff
 *   nameBytes(names[0]!);                               // <Buffer 62 ff>
 */
import { readdirSync, readlinkSync } from 'node:fs';

interface MaybeWellFormed {
  isWellFormed(): boolean; // ES2024; Node 20 has it
}

/** Does `s` hold no byte escape (no lone surrogate at all)? */
export function isPlainName(s: string): boolean {
  return (s as unknown as MaybeWellFormed).isWellFormed();
}

/** The string of the name `bytes`: their UTF-8, any byte of them that is not valid UTF-8 escaped. */
export function nameFromBytes(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buf.toString('utf8');
  if (!text.includes('\uFFFD')) return text; // valid (a U+FFFD in the name itself is decoded below, the same)
  let out = '';
  let run = 0; // start of the valid bytes not yet in `out`
  for (let i = 0; i < buf.length; ) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(0xdc00 + buf[i]!);
    run = ++i;
  }
  return out + buf.toString('utf8', run);
}

/** The exact bytes of a name or path string (nameFromBytes' inverse). */
export function nameBytes(s: string): Buffer {
  if (isPlainName(s)) return Buffer.from(s);
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++; // a pair: one character of the text
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      parts.push(Buffer.from(s.slice(run, i)), Buffer.of(c - 0xdc00));
      run = i + 1;
    }
    // Another lone surrogate cannot come from nameFromBytes; Buffer.from makes it U+FFFD.
  }
  parts.push(Buffer.from(s.slice(run)));
  return Buffer.concat(parts);
}

/** What to hand Node's fs or the addon for a path string: itself, or its exact bytes when it holds escapes. */
export function fsPath(path: string): string | Buffer {
  return isPlainName(path) ? path : nameBytes(path);
}

/** Byte order of two names, as Go sorts directory entries. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(nameBytes(a), nameBytes(b));
}

/** An entry of readdirEntries: its name and what fs.Dirent tells of its type. */
export interface DirEntry {
  readonly name: string;
  isDirectory(): boolean;
}

/**
 * fs.readdirSync(dir, { withFileTypes: true }) without loss: read as strings (the fast way),
 * and again as bytes only when some name came back with a U+FFFD, which a name that is not
 * UTF-8 does.
 */
export function readdirEntries(dir: string): DirEntry[] {
  const path = fsPath(dir);
  const entries = readdirSync(path, { withFileTypes: true });
  if (!entries.some((e) => e.name.includes('\uFFFD'))) return entries;
  return readdirSync(path, { withFileTypes: true, encoding: 'buffer' }).map((e) => ({
    name: nameFromBytes(e.name),
    isDirectory: () => e.isDirectory(),
  }));
}

/** The names in directory `dir`, without loss (see readdirEntries). */
export function readdirNames(dir: string): string[] {
  return readdirEntries(dir).map((e) => e.name);
}

/** fs.readlinkSync without loss: a target that is not UTF-8 comes back escaped. */
export function readlinkName(path: string): string {
  return nameFromBytes(readlinkSync(fsPath(path), { encoding: 'buffer' }));
}

/**
 * The length of the valid UTF-8 sequence at `buf[i]` (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0 when the byte there starts none.
 */
function sequenceLength(buf: Uint8Array, i: number): number {
  const c = buf[i]!;
  if (c < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf; // the range of the first continuation byte
  if (c >= 0xc2 && c <= 0xdf) need = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    if (c === 0xe0) lo = 0xa0;
    if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + need >= buf.length) return 0; // cut short
  const first = buf[i + 1]!;
  if (first < lo || first > hi) return 0;
  for (let k = 2; k <= need; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return 0;
  return need + 1;
}
