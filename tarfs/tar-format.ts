/**
 * Writing POSIX (ustar + PAX) tar headers. Our own encoder rather than tar-stream's because
 * PAX values must carry raw bytes (SCHILY.xattr.security.capability is binary, tar-stream's
 * records are UTF-8 strings) and numbers that do not fit a ustar field (uids > 2097151, files
 * over 8 GiB) must go to PAX records rather than be clamped.
 *
 * Names and link targets are written as their exact bytes: UTF-8, or the raw bytes of a name
 * that is not UTF-8 (byte-escaped in the strings here; see byte-names.ts). Such a name goes
 * where a UTF-8 one would: the ustar name (and prefix) fields when it fits them, else a PAX
 * `path` (or `linkpath`) record holding the raw bytes. POSIX says PAX values are UTF-8 unless
 * a `hdrcharset=BINARY` record says otherwise; Go's archive/tar (BuildKit's and containerd's
 * writer) writes the raw bytes of a Go string into those records with no such record (as GNU
 * tar 1.34 does too), and readers (Go's, GNU tar's) take them back byte for byte. We do as
 * Go does.
 */
import { nameBytes } from './byte-names.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Relative path with '/' separators (byte-escaped); directories get their trailing '/' from the encoder. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits, setuid/setgid/sticky included (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Content bytes; 0 for everything but files. */
  readonly size: number;
  /**
   * Seconds since the epoch. Layers we write have whole seconds; a fraction (a pulled
   * layer's PAX mtime, passed on) goes to a PAX record, the whole seconds to the ustar field.
   */
  readonly mtime: number;
  /** Target of a symlink, or the earlier path of a hard link. */
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Extended attributes, in the order to write them. */
  readonly xattrs?: readonly (readonly [string, Buffer])[];
}

export const BLOCK = 512;
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

const TYPEFLAG: Readonly<Record<TarEntryType, string>> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/** Zeros that complete a body of `size` bytes to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** One PAX record: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

/** Largest value an octal field of `width` bytes holds (one byte is the NUL terminator). */
function octalMax(width: number): number {
  return 8 ** (width - 1) - 1;
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  block.write(digits, offset, width - 1, 'ascii');
  block[offset + width - 1] = 0;
}

const NO_BYTES = Buffer.alloc(0);
const SLASH = 0x2f;

/** Splits a long path into ustar's prefix (≤155 bytes) and name (≤100 bytes), if possible. */
function splitUstarPath(path: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (path.length <= 100) return { prefix: NO_BYTES, name: path };
  for (let i = path.indexOf(SLASH); i !== -1; i = path.indexOf(SLASH, i + 1)) {
    if (i > 155) return undefined;
    const nameLength = path.length - i - 1;
    if (nameLength > 0 && nameLength <= 100) return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
  }
  return undefined;
}

/**
 * The first bytes of `b` that fit `max` bytes without cutting a UTF-8 sequence (nor, in a
 * name that is not UTF-8, a run of bytes that look like continuations): for the ustar
 * fields of an entry whose whole name is in a PAX record.
 */
function truncateBytes(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

function ustarBlock(fields: {
  name: Buffer;
  prefix: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0, 0, 100);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.fill(0x20, 148, 156); // checksum counted as spaces
  block.write(fields.typeflag, 156, 1, 'ascii');
  fields.linkname.copy(block, 157, 0, 100);
  block.write('ustar\u000000', 257, 8, 'ascii');
  // uname (265) and gname (297) stay empty: ownership is numeric only.
  writeOctal(block, 329, 8, fields.devmajor);
  writeOctal(block, 337, 8, fields.devminor);
  fields.prefix.copy(block, 345, 0, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0'), 148, 6, 'ascii');
  block[154] = 0;
  block[155] = 0x20;
  return block;
}

/** The header blocks of one entry: a PAX extended header when needed, then the ustar header. */
export function encodeHeader(h: TarHeader): Buffer {
  const path = nameBytes(h.type === 'dir' ? `${h.name}/` : h.name);
  const records: Buffer[] = [];
  const linkname = nameBytes(h.linkname ?? '');

  const split = splitUstarPath(path);
  if (split === undefined) records.push(paxRecord('path', path));
  const linkFits = linkname.length <= 100;
  if (!linkFits) records.push(paxRecord('linkpath', linkname));

  const numeric = (key: string, value: number, width: number): number => {
    if (Number.isInteger(value) && value >= 0 && value <= octalMax(width)) return value;
    records.push(paxRecord(key, Buffer.from(String(value))));
    return 0;
  };
  const uid = numeric('uid', h.uid, 8);
  const gid = numeric('gid', h.gid, 8);
  const size = numeric('size', h.size, 12);
  const mtime = Number.isInteger(h.mtime) ? numeric('mtime', h.mtime, 12) : subSecond(records, h.mtime);
  for (const [key, value] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${key}`, value));

  const header = ustarBlock({
    name: split?.name ?? truncateBytes(path, 100),
    prefix: split?.prefix ?? NO_BYTES,
    mode: h.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag: TYPEFLAG[h.type],
    linkname: linkFits ? linkname : truncateBytes(linkname, 100),
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  });
  if (records.length === 0) return header;

  const pax = Buffer.concat(records);
  const paxHeader = ustarBlock({
    name: truncateBytes(Buffer.concat([PAX_HEADERS, baseName(path)]), 100),
    prefix: NO_BYTES,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: pax.length,
    mtime: Math.min(Math.max(0, Math.floor(h.mtime)), octalMax(12)),
    typeflag: 'x',
    linkname: NO_BYTES,
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, pax, padding(pax.length), header]);
}

/** A time with a fraction of a second: a PAX record (nanoseconds at most), its whole seconds for the ustar field. */
function subSecond(records: Buffer[], seconds: number): number {
  records.push(paxRecord('mtime', Buffer.from(seconds.toFixed(9).replace(/\.?0+$/, ''))));
  const whole = Math.floor(seconds);
  return whole >= 0 && whole <= octalMax(12) ? whole : 0;
}

const PAX_HEADERS = Buffer.from('PaxHeaders/');

/** The last component of a path's bytes, a trailing '/' aside. */
function baseName(path: Buffer): Buffer {
  const end = path[path.length - 1] === SLASH ? path.length - 1 : path.length;
  return path.subarray(path.lastIndexOf(SLASH, end - 1) + 1, end);
}
