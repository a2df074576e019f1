/**
 * One ingest: a Writable into a private temp file under ingest/, hashed as it is written,
 * committed into blobs/ only after size and digest check out.
 *
 * The bytes are written and hashed off the main thread, in one job per write on libuv's
 * thread pool (the addon's writeAndHash): a pull then hashes its layers on every core while
 * the main thread only reads the network. The Writable hands over one write (or a batch of
 * queued chunks, _writev) at a time, which is the one-job-per-handle rule the addon asks for.
 *
 * Ingest files are named `<pid>-<random>` so that any later process can tell whether the
 * writer is still alive; each writer has its own file, so two processes ingesting the same
 * blob never touch each other's bytes and both commits succeed.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { chmod, open, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { native, type NativeBinding, type Sha256Handle } from '../native/index.js';
import { sha256Of } from './digest.js';
import { digestAlgorithm, type Digest } from '../oci/index.js';
import { ContentError, errnoCode } from './errors.js';
import { fsyncDir, fsyncDirSync } from './fsutil.js';
import type { BlobInfo, BlobWriter } from './types.js';

export function ingestName(): string {
  return `${process.pid}-${randomBytes(8).toString('hex')}`;
}

/** The owner pid encoded in an ingest file name, or undefined for foreign files. */
export function ingestOwner(name: string): number | undefined {
  const m = /^(\d+)-[0-9a-f]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface IngestPaths {
  readonly ingestDir: string;
  /** Where a committed blob of this digest lives. */
  readonly blobPath: (digest: Digest) => string;
}

export class IngestWriter extends Writable implements BlobWriter {
  readonly ref: string;
  readonly #paths: IngestPaths;
  readonly #path: string;
  readonly #fh: FileHandle;
  readonly #addon: NativeBinding;
  readonly #hash: Sha256Handle;
  #written = 0;
  #settled = false;
  /** The write the thread pool is doing now: the file must stay open until it ends. */
  #inFlight: Promise<unknown> | undefined;
  /** Called after each append and once the writer settles (see follow.ts). */
  readonly #progress = new Set<() => void>();

  private constructor(ref: string, paths: IngestPaths, path: string, fh: FileHandle, addon: NativeBinding) {
    // Not autoDestroy: the file must stay open after 'finish' until commit() has synced it.
    super({ highWaterMark: 1 << 20, autoDestroy: false });
    this.ref = ref;
    this.#paths = paths;
    this.#path = path;
    this.#fh = fh;
    this.#addon = addon;
    this.#hash = addon.sha256Writer();
  }

  static async open(ref: string, paths: IngestPaths): Promise<IngestWriter> {
    const addon = native(); // before the file: without the addon, no ingest is left behind
    const path = join(paths.ingestDir, ingestName());
    const fh = await open(path, 'wx', 0o600);
    return new IngestWriter(ref, paths, path, fh, addon);
  }

  get written(): number {
    return this.#written;
  }

  /** The ingest file (until the commit renames it or an abort removes it). */
  get path(): string {
    return this.#path;
  }

  /** Calls `listener` after every append and when the writer commits or is dropped; returns its removal. */
  onProgress(listener: () => void): () => void {
    this.#progress.add(listener);
    return () => this.#progress.delete(listener);
  }

  #notify(): void {
    for (const listener of this.#progress) listener();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#append([chunk]).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#append(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  async #append(buffers: Buffer[]): Promise<void> {
    // Every byte reaches the file (short writes are continued) and the hash, or this rejects.
    const writing = this.#addon.writeAndHash(this.#hash, this.#fh.fd, buffers);
    this.#inFlight = writing;
    try {
      this.#written += await writing;
    } finally {
      this.#inFlight = undefined;
    }
    this.#notify();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A destroyed writer never commits: close the file and drop the ingest. destroy() does
    // not wait for a running _write, so wait for the thread pool's write before closing:
    // closing under it would let the descriptor be reused and written to by that job.
    if (this.#settled) {
      callback(error);
      return;
    }
    this.#settled = true;
    Promise.resolve(this.#inFlight)
      .catch(() => undefined)
      .then(() => this.#fh.close())
      .catch(() => undefined)
      .then(() => rm(this.#path, { force: true }))
      .finally(() => this.#notify())
      .then(() => callback(error), () => callback(error));
  }

  async commit(expectedSize?: number, expectedDigest?: Digest): Promise<BlobInfo> {
    if (this.#settled) throw new Error('BlobWriter: commit after commit, abort or destroy');
    if (!this.writableEnded) this.end();
    try {
      await finished(this, { readable: false });
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.#settled = true;
    try {
      await this.#fh.sync();
    } finally {
      await this.#fh.close();
    }
    try {
      const size = this.#written;
      checkExpected(this.ref, expectedDigest);
      const digest = `sha256:${this.#addon.digestHex(this.#hash)}` as Digest;
      checkGot(this.ref, size, digest, expectedSize, expectedDigest);
      return await this.#publish(digest, size);
    } finally {
      await rm(this.#path, { force: true });
      this.#notify();
    }
  }

  async #publish(digest: Digest, size: number): Promise<BlobInfo> {
    const target = this.#paths.blobPath(digest);
    const present = await statOrUndefined(target);
    if (present !== undefined) {
      // Already committed by someone: the same bytes by construction. Mark it used.
      const now = new Date();
      await utimes(target, now, now).catch(() => undefined);
      return { digest, size: present.size, updatedAt: now };
    }
    await chmod(this.#path, 0o444);
    // rename replaces atomically; a racing writer of the same digest renames the same bytes.
    await rename(this.#path, target);
    await fsyncDir(dirname(target));
    return { digest, size, updatedAt: new Date() };
  }

  async abort(): Promise<void> {
    if (this.#settled) return;
    if (this.destroyed) {
      await finished(this).catch(() => undefined);
      return;
    }
    await new Promise<void>((resolve) => {
      this.once('close', resolve);
      this.destroy();
    });
  }
}

function checkExpected(ref: string, expectedDigest: Digest | undefined): void {
  if (expectedDigest !== undefined && digestAlgorithm(expectedDigest) !== 'sha256') {
    throw new ContentError('BAD_DIGEST', `cannot verify ${expectedDigest}: only sha256 is supported (${ref})`);
  }
}

function checkGot(ref: string, size: number, digest: Digest, expectedSize?: number, expectedDigest?: Digest): void {
  if (expectedSize !== undefined && expectedSize !== size) {
    throw new ContentError('SIZE_MISMATCH', `${ref}: got ${size} bytes, expected ${expectedSize}`);
  }
  if (expectedDigest !== undefined && expectedDigest !== digest) {
    throw new ContentError('DIGEST_MISMATCH', `${ref}: got ${digest}, expected ${expectedDigest}`);
  }
}

/**
 * A blob held in memory (a manifest, a config), ingested as a stream would be (a private file
 * under ingest/, synced, renamed into blobs/, the directory synced) by synchronous calls: for a
 * few kilobytes, the thread pool's hand-overs would cost more than the writes.
 */
export function ingestBytes(ref: string, data: Uint8Array, paths: IngestPaths, expectedSize?: number, expectedDigest?: Digest): BlobInfo {
  checkExpected(ref, expectedDigest);
  const digest = sha256Of(data);
  checkGot(ref, data.length, digest, expectedSize, expectedDigest);
  const target = paths.blobPath(digest);
  try {
    const present = statSync(target);
    const now = new Date();
    try {
      utimesSync(target, now, now);
    } catch {
      // Marking it used is a hint for prune's grace period, no more.
    }
    return { digest, size: present.size, updatedAt: now };
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  const path = join(paths.ingestDir, ingestName());
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
      fchmodSync(fd, 0o444);
    } finally {
      closeSync(fd);
    }
    renameSync(path, target);
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
  fsyncDirSync(dirname(target));
  return { digest, size: data.length, updatedAt: new Date() };
}

async function statOrUndefined(path: string): Promise<{ size: number } | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}
