/**
 * Writing POSIX (ustar + PAX) tar headers. Our own encoder rather than tar-stream's because
 * PAX values must carry raw bytes (SCHILY.xattr.security.capability is binary, tar-stream's
 * records are UTF-8 strings) and numbers that do not fit a ustar field (uids > 2097151, files
 * over 8 GiB) must go to PAX records rather than be clamped.
 */

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Relative path with '/' separators; directories get their trailing '/' from the encoder. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits, setuid/setgid/sticky included (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Content bytes; 0 for everything but files. */
  readonly size: number;
  /** Whole seconds since the epoch. */
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

/** Splits a long path into ustar's prefix (≤155 bytes) and name (≤100 bytes), if possible. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) > 155) return undefined;
    if (name.length > 0 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  return undefined;
}

/** The first bytes of `s` that fit `max` bytes without cutting a UTF-8 sequence. */
function truncateUtf8(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

function ustarBlock(fields: {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.fill(0x20, 148, 156); // checksum counted as spaces
  block.write(fields.typeflag, 156, 1, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  // uname (265) and gname (297) stay empty: ownership is numeric only.
  writeOctal(block, 329, 8, fields.devmajor);
  writeOctal(block, 337, 8, fields.devminor);
  block.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0'), 148, 6, 'ascii');
  block[154] = 0;
  block[155] = 0x20;
  return block;
}

/** The header blocks of one entry: a PAX extended header when needed, then the ustar header. */
export function encodeHeader(h: TarHeader): Buffer {
  const path = h.type === 'dir' ? `${h.name}/` : h.name;
  const records: Buffer[] = [];
  const linkname = h.linkname ?? '';

  const split = splitUstarPath(path);
  if (split === undefined) records.push(paxRecord('path', Buffer.from(path)));
  const linkFits = Buffer.byteLength(linkname) <= 100;
  if (!linkFits) records.push(paxRecord('linkpath', Buffer.from(linkname)));

  const numeric = (key: string, value: number, width: number): number => {
    if (Number.isInteger(value) && value >= 0 && value <= octalMax(width)) return value;
    records.push(paxRecord(key, Buffer.from(String(value))));
    return 0;
  };
  const uid = numeric('uid', h.uid, 8);
  const gid = numeric('gid', h.gid, 8);
  const size = numeric('size', h.size, 12);
  const mtime = numeric('mtime', h.mtime, 12);
  for (const [key, value] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${key}`, value));

  const header = ustarBlock({
    name: split?.name ?? truncateUtf8(path, 100),
    prefix: split?.prefix ?? '',
    mode: h.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag: TYPEFLAG[h.type],
    linkname: linkFits ? linkname : truncateUtf8(linkname, 100),
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  });
  if (records.length === 0) return header;

  const pax = Buffer.concat(records);
  const paxHeader = ustarBlock({
    name: truncateUtf8(`PaxHeaders/${path.replace(/\/$/, '').split('/').pop() ?? ''}`, 100),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: pax.length,
    mtime: Math.min(Math.max(0, Math.floor(h.mtime)), octalMax(12)),
    typeflag: 'x',
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, pax, padding(pax.length), header]);
}
