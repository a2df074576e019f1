/**
 * The native addon (native/addon/): the Linux syscalls Node lacks, and the content store's
 * ingest writes, hashed off the main thread (ingest.c). The one place that loads it, for
 * every folder that needs it: lazily, so code which never mounts, touches xattrs or ingests
 * runs without it; the first call without a build fails with NativeMissingError. The syscall
 * functions are synchronous and throw errors shaped like Node's fs errors (`code` is the errno
 * name, e.g. 'ENOENT'); writeAndHash is asynchronous and rejects with the same shape.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError } from '../errors/index.js';

declare const sha256Brand: unique symbol;
/** A running SHA-256 owned by the addon (an External); only the addon's functions take it. */
export type Sha256Handle = { readonly [sha256Brand]: 'Sha256Handle' };

/** Starting and reaping the runner without forking Node (used by executor/spawn.ts). */
export interface SpawnBinding {
  /** posix_spawn of `file`: fd 0 reads `input`, fds 1..outputs are new pipes whose read ends come back in `fds`. */
  spawn(file: string, input: Buffer, outputs: number): { pid: number; fds: number[] };
  /** Reaps `pid`: at once when it has ended, else off the main thread. */
  waitpid(pid: number): Promise<{ code: number | null; signal: number | null }>;
}

/** A path as the addon takes it: a string, or a Buffer of its bytes when they are not UTF-8 (as Node's fs takes it). */
export type PathArg = string | Buffer;

export interface NativeBinding extends SpawnBinding {
  /** mount(2). With `cwd`, relative paths inside `data` resolve against it (done in a child). */
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
    cwd?: string | null,
  ): void;
  umount2(target: string, flags: number): void;
  /** The attribute's value, or null when the file has no such attribute. Never follows a symlink. */
  lgetxattr(path: PathArg, name: string): Buffer | null;
  lsetxattr(path: PathArg, name: string, value: Buffer, flags: number): void;
  llistxattr(path: PathArg): string[];
  lremovexattr(path: PathArg, name: string): void;
  /** mknod(2); `dev` in the kernel's encoding, as in fs.Stats.rdev (see makedev). */
  mknod(path: PathArg, mode: number, dev: number): void;
  /**
   * renameat2(a, b, RENAME_EXCHANGE): the two paths (both existing) trade places in one atomic
   * step. EINVAL where the file system cannot (the caller falls back to two renames).
   */
  renameExchange(a: string, b: string): void;
  /**
   * flock(fd, LOCK_EX | LOCK_NB): true when this open file now holds the exclusive lock, false
   * when another open file holds it. Closing the descriptor (or any exit) releases it.
   */
  tryLockExclusive(fd: number): boolean;
  /** A fresh SHA-256 for writeAndHash. */
  sha256Writer(): Sha256Handle;
  /**
   * In libuv's thread pool: writes every byte of `buffers` to `fd` at its file offset
   * (looping on short writes) and feeds exactly those bytes to the hash; resolves with their
   * count. One call at a time per handle, and the buffers must not change until it settles.
   * A failed write rejects (code, errno, syscall 'writev') and the handle is unusable after.
   * Every 8 MiB it starts the file's writeback without waiting (sync_file_range), for callers
   * that fsync the file at the end, as an ingest does: the fsync then finds little to flush.
   */
  writeAndHash(handle: Sha256Handle, fd: number, buffers: readonly Uint8Array[]): Promise<number>;
  /** Finishes the hash: 64 lower-case hex digits. The handle takes nothing more. */
  digestHex(handle: Sha256Handle): string;
  /** One directory's entries, sorted, with their lstat fields (native/addon/scan.c; decoded by dir-scan.ts). */
  scanDir(path: PathArg): Buffer;
  /** A set of scans ahead of a walk (scan.c): queue directories, take each as scanDir would give it. */
  scanAheadOpen(): ScanAheadHandle;
  scanAheadQueue(handle: ScanAheadHandle, path: PathArg): void;
  scanAheadTake(handle: ScanAheadHandle, path: PathArg): Buffer;
  /** Drops what was queued and not taken; the handle is then unusable. */
  scanAheadClose(handle: ScanAheadHandle): void;
}

declare const scanAheadBrand: unique symbol;
/** An opaque native handle. */
export type ScanAheadHandle = { readonly [scanAheadBrand]: 'ScanAheadHandle' };

/** The system error the addon throws. */
export interface NativeError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

export function isNativeError(e: unknown, code?: string): e is NativeError {
  return (
    e instanceof Error &&
    typeof (e as Partial<NativeError>).code === 'string' &&
    (code === undefined || (e as NativeError).code === code)
  );
}

// mount(2) flags and umount2(2) flags from <sys/mount.h>.
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_RELATIME = 0x200000;
export const MNT_DETACH = 0x2;
// setxattr(2) flags.
export const XATTR_CREATE = 0x1;
export const XATTR_REPLACE = 0x2;
// File type bits for mknod.
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** glibc's makedev: the kernel's dev_t encoding, as fs.Stats.rdev reports it. */
export function makedev(major: number, minor: number): number {
  const lo = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)) >>> 0;
  const hi = ((major & 0xfffff000) | ((minor >>> 20) & 0xfff)) >>> 0;
  return hi * 0x100000000 + lo;
}

export function major(dev: number): number {
  const hi = Math.floor(dev / 0x100000000);
  return (((dev >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0;
}

export function minor(dev: number): number {
  const hi = Math.floor(dev / 0x100000000);
  return ((dev & 0xff) | ((dev >>> 12) & 0xfff00) | ((hi & 0xfff) << 20)) >>> 0;
}

/** The addon is not built. `code` is 'IO' (errors/ has no code of its own for it). */
export class NativeMissingError extends BuildError {
  readonly reason = 'NATIVE_MISSING';

  constructor(message: string) {
    super('IO', message);
  }
}

const ADDON_FILE = 'tsbuild_native.node';

/**
 * The environment variable naming a directory that holds the native parts, the addon
 * (tsbuild_native.node) and the runner (tsbuild-runner), instead of native/build/Release of
 * the package: the GitHub Action compiles them on the runner into a directory of its own and
 * runs the bundled CLI with this set (action/payload.ts).
 */
export const NATIVE_DIR_ENV = 'TSBUILD_NATIVE_DIR';

/** The directory TSBUILD_NATIVE_DIR names, when set and not empty. */
export function nativeDirOverride(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env[NATIVE_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : dir;
}

/**
 * Where the addon may be: in TSBUILD_NATIVE_DIR alone when it is set; else native/build/Release
 * seen from this file in the sources (native/), in dist/native/ or in the bundle (dist/cli/).
 */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = nativeDirOverride(env);
  if (override !== undefined) return [join(override, ADDON_FILE)];
  const here = dirname(fileURLToPath(import.meta.url));
  return [
    join(here, 'build', 'Release', ADDON_FILE),
    join(here, '..', '..', 'native', 'build', 'Release', ADDON_FILE),
  ];
}

let loaded: NativeBinding | undefined;

/** The addon, loaded on first use. Throws NativeMissingError when it is not built. */
export function native(): NativeBinding {
  if (loaded !== undefined) return loaded;
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    const fix = nativeDirOverride() === undefined ? 'run npm ci' : `${NATIVE_DIR_ENV} names a directory without it`;
    throw new NativeMissingError(`native addon not built: ${fix} (looked for ${candidates.join(', ')})`);
  }
  const require = createRequire(import.meta.url);
  loaded = require(path) as NativeBinding;
  return loaded;
}
