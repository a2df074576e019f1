/**
 * A streaming tar reader: ustar, PAX (local and global, values kept as raw bytes) and GNU long
 * names. Entries come one at a time; an entry's body streams from the input and is skipped if
 * the caller leaves it unread. Our own rather than tar-stream's extract because PAX xattr
 * values are binary (tar-stream decodes them as UTF-8 strings) and PAX uid/gid/mtime matter.
 * Names and link targets may be any bytes, in the ustar fields, GNU long names and PAX
 * records alike (Go's archive/tar writes raw bytes in all of them): they come back as
 * strings as byte-names.ts has them, byte-escaped where not UTF-8, so their exact bytes can
 * be written to the disk.
 */
import { nameFromBytes } from './byte-names.js';
import { TarError } from './errors.js';
import { BLOCK } from './tar-format.js';

export type TarReadType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarReadHeader {
  /** As written in the archive (byte-escaped where not UTF-8), not yet checked or normalised. */
  readonly name: string;
  readonly type: TarReadType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch; fractional when a PAX record gave sub-second precision. */
  readonly mtime: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** From SCHILY.xattr.* records, raw bytes, in archive order. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

export interface TarReadEntry {
  readonly header: TarReadHeader;
  /** The content, exactly `header.size` bytes. Read it before asking for the next entry, or it is skipped. */
  readonly body: AsyncIterable<Buffer>;
}

/** Largest PAX or GNU long-name block we accept: names and xattrs, never content. */
const MAX_META_SIZE = 16 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(message: string): TarError {
  return new TarError('BAD_TAR', message);
}

/** Exact-size reads over an async iterable of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Up to `max` bytes already available or from the next chunk; empty at end of input. */
  async some(max: number): Promise<Buffer> {
    while (this.buffered === 0) if (!(await this.fill())) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length <= max) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.buffered -= max;
    return first.subarray(0, max);
  }

  /** Exactly `n` bytes, or null when the input ends before the first of them. */
  async exactly(n: number): Promise<Buffer | null> {
    while (this.buffered < n) {
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw bad(`tar truncated: wanted ${n} bytes, input ended after ${this.buffered}`);
      }
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const part = await this.some(need);
      parts.push(part);
      need -= part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const part = await this.some(left);
      if (part.length === 0) throw bad('tar truncated inside an entry');
      left -= part.length;
    }
  }

  async drain(): Promise<void> {
    while (await this.fill()) {
      this.chunks = [];
      this.buffered = 0;
    }
  }
}

function parseNumber(block: Buffer, offset: number, width: number, field: string): number {
  const raw = block.subarray(offset, offset + width);
  if ((raw[0]! & 0x80) !== 0) {
    // GNU base-256: big-endian two's complement; only non-negative values that fit a double.
    if (raw[0] === 0xff) throw bad(`negative ${field} in tar header`);
    let value = raw[0]! & 0x7f;
    for (let i = 1; i < raw.length; i++) value = value * 256 + raw[i]!;
    if (!Number.isSafeInteger(value)) throw bad(`${field} too large in tar header`);
    return value;
  }
  const text = raw.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw bad(`invalid ${field} ${JSON.stringify(text)} in tar header`);
  return parseInt(text, 8);
}

/** A NUL-terminated name field (or the whole field when it has no NUL), without loss. */
function parseName(block: Buffer, offset: number, width: number): string {
  const raw = block.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return nameFromBytes(end === -1 ? raw : raw.subarray(0, end));
}

/** A PAX key: UTF-8 by the standard, and an xattr name we could not set by its bytes. */
function decodeKey(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TarError('NOT_SUPPORTED', `tar PAX key is not valid UTF-8: ${Buffer.from(bytes).toString('latin1')}`);
  }
}

function checksumOk(block: Buffer): boolean {
  const stored = parseNumber(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed; // some old writers summed signed bytes
}

/** PAX records, values as raw bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // padding some writers leave
    const space = data.indexOf(0x20, pos);
    if (space === -1) throw bad('malformed PAX record');
    const length = Number(data.toString('latin1', pos, space));
    if (!Number.isInteger(length) || length <= space - pos + 1 || pos + length > data.length) {
      throw bad('malformed PAX record length');
    }
    const record = data.subarray(space + 1, pos + length);
    if (record[record.length - 1] !== 0x0a) throw bad('PAX record without newline');
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw bad('PAX record without "="');
    records.set(decodeKey(record.subarray(0, eq)), record.subarray(eq + 1, record.length - 1));
    pos += length;
  }
  return records;
}

const TYPES: Readonly<Record<string, TarReadType>> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a plain file everywhere that matters
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function paxNumber(records: Map<string, Buffer>, key: string, fallback: number): number {
  const value = records.get(key);
  if (value === undefined) return fallback;
  const n = Number(value.toString('latin1'));
  if (!Number.isFinite(n)) throw bad(`invalid PAX ${key}`);
  return n;
}

/** The entries of an uncompressed tar stream, one after the other. Reads the input to its end. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarReadEntry> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let globalPax = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;

  const readMeta = async (size: number, what: string): Promise<Buffer> => {
    if (size > MAX_META_SIZE) throw bad(`${what} of ${size} bytes is too large`);
    const data = (await reader.exactly(size)) ?? Buffer.alloc(0);
    if (data.length !== size) throw bad(`tar truncated in ${what}`);
    await reader.skip((BLOCK - (size % BLOCK)) % BLOCK);
    return data;
  };

  for (;;) {
    const block = await reader.exactly(BLOCK);
    if (block === null) break; // no end-of-archive marker: tolerated, as most readers do
    if (block.every((b) => b === 0)) break;
    if (!checksumOk(block)) throw bad('tar header checksum mismatch (not a tar, or compressed?)');

    const typeflag = String.fromCharCode(block[156]!);
    const magic = block.toString('latin1', 257, 263);
    const size = parseNumber(block, 124, 12, 'size');

    if (typeflag === 'x' || typeflag === 'g') {
      const records = parsePax(await readMeta(size, 'PAX header'));
      if (typeflag === 'g') globalPax = new Map([...globalPax, ...records]);
      else pax = new Map([...pax, ...records]);
      continue;
    }
    if (typeflag === 'L' || typeflag === 'K') {
      const data = await readMeta(size, 'GNU long name');
      const value = parseName(data, 0, data.length);
      if (typeflag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const type = TYPES[typeflag];
    if (type === undefined) {
      throw new TarError('NOT_SUPPORTED', `tar entry type ${JSON.stringify(typeflag)} is not supported`);
    }

    const records = new Map([...globalPax, ...pax]);
    let name = parseName(block, 0, 100);
    if (magic === 'ustar\u0000') {
      const prefix = parseName(block, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    if (longName !== undefined) name = longName;
    const paxPath = records.get('path');
    if (paxPath !== undefined) name = nameFromBytes(paxPath);
    let linkname = longLink ?? parseName(block, 157, 100);
    const paxLink = records.get('linkpath');
    if (paxLink !== undefined) linkname = nameFromBytes(paxLink);

    const xattrs = new Map<string, Buffer>();
    for (const [key, value] of records) {
      if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    }
    const bodySize = type === 'file' ? paxNumber(records, 'size', size) : 0;
    if (!Number.isSafeInteger(bodySize) || bodySize < 0) throw bad(`invalid size for ${name}`);

    const header: TarReadHeader = {
      name,
      type: type === 'file' && typeflag === '\0' && name.endsWith('/') ? 'dir' : type,
      mode: parseNumber(block, 100, 8, 'mode') & 0o7777,
      uid: paxNumber(records, 'uid', parseNumber(block, 108, 8, 'uid')),
      gid: paxNumber(records, 'gid', parseNumber(block, 116, 8, 'gid')),
      size: bodySize,
      mtime: paxNumber(records, 'mtime', parseNumber(block, 136, 12, 'mtime')),
      linkname,
      devmajor: parseNumber(block, 329, 8, 'devmajor'),
      devminor: parseNumber(block, 337, 8, 'devminor'),
      xattrs,
    };
    pax = new Map();
    longName = undefined;
    longLink = undefined;

    // Non-file entries may still carry data in the archive (a size on a hard link, say): skip it.
    const stored = type === 'file' ? bodySize : size;
    let left = header.size;
    const body = async function* (): AsyncGenerator<Buffer> {
      while (left > 0) {
        const part = await reader.some(left);
        if (part.length === 0) throw bad(`tar truncated inside ${name}`);
        left -= part.length;
        yield part;
      }
    };
    yield { header, body: body() };
    await reader.skip(left + (stored - header.size));
    await reader.skip((BLOCK - (stored % BLOCK)) % BLOCK);
  }
  await reader.drain();
}
