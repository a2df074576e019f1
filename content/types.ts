/**
 * The content store's roles, split as containerd splits them: a reader never needs `commit`,
 * a writer never needs `delete`. Hand each caller the smallest role it needs.
 */
import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../oci/index.js';

/** What the store knows of a committed blob. */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
  /** Last commit or use, for least-recently-used pruning. */
  readonly updatedAt: Date;
}

export interface ReadOptions {
  /** Byte offset to start at (resuming a copy). */
  readonly start?: number;
  /** Byte offset to stop before (exclusive); the end of the blob when absent. */
  readonly end?: number;
}

/** Reads committed, verified blobs. */
export interface ContentProvider {
  has(digest: Digest): Promise<boolean>;
  /** Throws ContentError NOT_FOUND when absent. */
  info(digest: Digest): Promise<BlobInfo>;
  /** Opens the blob first, so a missing blob throws here rather than mid-stream. */
  reader(digest: Digest, options?: ReadOptions): Promise<Readable>;
  /** Whole blob in memory: manifests and configs only; refuses blobs above `limit` (4 MiB). */
  readBytes(digest: Digest, limit?: number): Promise<Buffer>;
}

export interface ExpectedContent {
  readonly digest?: Digest;
  readonly size?: number;
}

/** An ingest: bytes go to a private temp file; nothing is visible before `commit`. */
export interface BlobWriter extends Writable {
  /** A label for progress and debugging; two writers may share one. */
  readonly ref: string;
  /** Bytes written so far. */
  readonly written: number;
  /**
   * Ends the stream if still open, waits for the bytes to reach the file, verifies size and
   * digest, fsyncs, renames into place and fsyncs the directory. A blob already present counts
   * as success. On a mismatch the ingest is removed and ContentError is thrown.
   */
  commit(expectedSize?: number, expectedDigest?: Digest): Promise<BlobInfo>;
  /** Drops the ingest; nothing becomes visible. */
  abort(): Promise<void>;
}

export interface ContentIngester {
  writer(ref?: string): Promise<BlobWriter>;
  /**
   * Streams bytes into a verified blob. When `expected.digest` is already present the
   * source is not read (a Readable is destroyed) and the present blob is reported.
   */
  writeBlob(source: Uint8Array | Readable, expected?: ExpectedContent): Promise<BlobInfo>;
  /**
   * The blob's bytes while a writeBlob of it (with `expected.digest`) is still writing them,
   * for the fetch `done` awaits: as they reach the ingest, ending only once `done` has resolved
   * (the digest checked out) and failing if it rejects. The committed blob when `done` resolves
   * before any such write starts.
   */
  readWhileWritten(digest: Digest, done: Promise<unknown>): Promise<Readable>;
}

export interface IngestStatus {
  readonly name: string;
  readonly pid: number;
  readonly size: number;
  readonly updatedAt: Date;
}

export interface IngestManager {
  listIngests(): Promise<readonly IngestStatus[]>;
  /**
   * Removes ingests of dead processes and ingests untouched for longer than `graceMs`
   * (default 24 hours); returns the names removed.
   */
  cleanupIngests(graceMs?: number): Promise<readonly string[]>;
}

export interface ContentManager {
  /** True when removed, false when it was not there. */
  delete(digest: Digest): Promise<boolean>;
  /** Every committed blob, in no particular order. */
  walk(): AsyncIterable<BlobInfo>;
}

/**
 * Where blobs are known to exist in registries (containerd keeps the same fact as
 * `containerd.io/distribution.source.HOST=REPO` labels): recorded when a blob is pulled from or
 * pushed to a repository, read to try a cross-repository mount. A hint, never a promise: a
 * record lost to a race or a repository deleted since costs an upload, not a failed push.
 */
export interface BlobSources {
  /** Repositories of registry `domain` known to hold the blob, the latest seen first. */
  sourcesOf(digest: Digest, domain: string): Promise<readonly string[]>;
  /** Remembers that `domain/repository` holds the blob. */
  recordSource(digest: Digest, domain: string, repository: string): Promise<void>;
}

export interface ContentStore extends ContentProvider, ContentIngester, ContentManager, IngestManager, BlobSources {
  /** The store's directory (blobs/, ingest/, sources/). */
  readonly root: string;
  /** Where a committed blob lives (for hard-linking into layouts); it may not exist. */
  blobPath(digest: Digest): string;
}
