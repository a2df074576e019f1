/**
 * The lstat fields a context walk and checksum use, as plain numbers: a view of one entry of
 * a directory scan (snapshotter's scanDir), so a walk of 20,000 files makes no object of
 * bigints per file. Times are seconds and nanoseconds, inode and device numbers two 32-bit
 * halves: all exact. An fs.BigIntStats converts to the same fields (EntryStat.of).
 */
import type { BigIntStats } from 'node:fs';
import {
  F_CTIME_NSEC,
  F_CTIME_SEC,
  F_GID,
  F_INO_HI,
  F_MODE,
  F_MTIME_NSEC,
  F_MTIME_SEC,
  F_RDEV_HI,
  F_RDEV_LO,
  F_SIZE,
  F_UID,
  SCAN_FIELDS,
} from '../../../tarfs/index.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/**
 * How many numbers a stamp has: size, mtime (s, ns), ctime (s, ns), inode (high, low half).
 * Two stamps are equal when the file is unchanged as far as its metadata tells.
 */
export const STAMP_FIELDS = 7;
/** Where a stamp starts among an entry's fields (it is F_SIZE … F_INO_LO, in this order). */
const STAMP_AT = F_SIZE;

const TWO32 = 0x1_0000_0000;

export class EntryStat {
  /** `fields[at + F_*]` are this entry's numbers, laid out as a directory scan's. */
  constructor(
    private readonly fields: Float64Array,
    private readonly at: number,
  ) {}

  /** The same fields from Node's lstat. */
  static of(s: BigIntStats): EntryStat {
    const f = new Float64Array(SCAN_FIELDS);
    f[F_MODE] = Number(s.mode);
    f[F_UID] = Number(s.uid);
    f[F_GID] = Number(s.gid);
    f[F_SIZE] = Number(s.size);
    splitNs(s.mtimeNs, f, F_MTIME_SEC);
    splitNs(s.ctimeNs, f, F_CTIME_SEC);
    split64(s.ino, f, F_INO_HI);
    split64(s.rdev, f, F_RDEV_HI);
    return new EntryStat(f, 0);
  }

  get mode(): number {
    return this.fields[this.at + F_MODE]!;
  }
  get uid(): number {
    return this.fields[this.at + F_UID]!;
  }
  get gid(): number {
    return this.fields[this.at + F_GID]!;
  }
  get size(): number {
    return this.fields[this.at + F_SIZE]!;
  }
  /** The device number (of a device node) in decimal, as String(BigIntStats.rdev). */
  get rdev(): string {
    const hi = this.fields[this.at + F_RDEV_HI]!;
    const lo = this.fields[this.at + F_RDEV_LO]!;
    const n = hi * TWO32 + lo;
    return Number.isSafeInteger(n) ? String(n) : String((BigInt(hi) << 32n) | BigInt(lo));
  }
  /** The modification time as `seconds.nanoseconds` (exact; for digests, not arithmetic). */
  get mtimeKey(): string {
    return `${this.fields[this.at + F_MTIME_SEC]!}.${this.fields[this.at + F_MTIME_NSEC]!}`;
  }
  /** The later of mtime and ctime, in ns since the epoch. */
  get newestNs(): bigint {
    const f = this.fields;
    const m = BigInt(f[this.at + F_MTIME_SEC]!) * 1_000_000_000n + BigInt(f[this.at + F_MTIME_NSEC]!);
    const c = BigInt(f[this.at + F_CTIME_SEC]!) * 1_000_000_000n + BigInt(f[this.at + F_CTIME_NSEC]!);
    return m > c ? m : c;
  }

  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  isFIFO(): boolean {
    return (this.mode & S_IFMT) === S_IFIFO;
  }
  isCharacterDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFBLK;
  }

  /** Is the stamp at `to[at…]` this entry's (same size, mtime, ctime and inode)? */
  sameStamp(to: Float64Array, at: number): boolean {
    const f = this.fields;
    const o = this.at + STAMP_AT;
    return (
      f[o] === to[at] &&
      f[o + 1] === to[at + 1] &&
      f[o + 2] === to[at + 2] &&
      f[o + 3] === to[at + 3] &&
      f[o + 4] === to[at + 4] &&
      f[o + 5] === to[at + 5] &&
      f[o + 6] === to[at + 6]
    );
  }

  /** Write this entry's stamp to `to[at…]`. */
  copyStamp(to: Float64Array, at: number): void {
    const o = this.at + STAMP_AT;
    to.set(this.fields.subarray(o, o + STAMP_FIELDS), at);
  }
}

/** ns since the epoch as whole seconds (floored) and 0…999,999,999 ns, as struct timespec has them. */
function splitNs(ns: bigint, to: Float64Array, at: number): void {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  to[at] = Number(sec);
  to[at + 1] = Number(nsec);
}

function split64(n: bigint, to: Float64Array, at: number): void {
  const u = BigInt.asUintN(64, n);
  to[at] = Number(u >> 32n);
  to[at + 1] = Number(u & 0xffff_ffffn);
}
