/**
 * The local content store: committed blobs at `<root>/blobs/<algorithm>/<hex>`, ingests at
 * `<root>/ingest/<pid>-<random>`. Only verified bytes ever appear under blobs/.
 *
 * Opening the store, asking for a blob and reading a small one (a manifest, a config) are
 * synchronous system calls: each takes microseconds, while a call through libuv's thread pool
 * costs tens of microseconds of hand-over, and a fully cached build is little but such calls.
 * Blob contents of any size stream (reader).
 */
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open, readdir, rm, stat, utimes } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestHex, isDigest, type Digest } from '../oci/index.js';
import { ContentError, errnoCode } from './errors.js';
import { followIngest } from './follow.js';
import { isPidAlive } from './fsutil.js';
import { IngestWriter, ingestBytes, ingestOwner, type IngestPaths } from './ingest.js';
import { forgetSources, recordSource, sourcesOf } from './sources.js';
import type {
  BlobInfo, BlobWriter, ContentStore, ExpectedContent, IngestStatus, ReadOptions,
} from './types.js';

/** Ingests untouched this long are abandoned even if their pid number is alive again. */
export const DEFAULT_INGEST_GRACE_MS = 24 * 60 * 60 * 1000;
/** readBytes refuses blobs above this unless told otherwise: it is for manifests and configs. */
export const DEFAULT_READ_LIMIT = 4 << 20;

export interface OpenContentStoreOptions {
  /** Grace period for the stale-ingest cleanup done on open. */
  readonly ingestGraceMs?: number;
}

/** Opens (creating if needed) the store at `root` and removes stale ingests. */
export async function openContentStore(root: string, options: OpenContentStoreOptions = {}): Promise<ContentStore> {
  const store = new LocalContentStore(root);
  for (const dir of [join(root, 'blobs', 'sha256'), join(root, 'ingest'), join(root, 'sources', 'sha256')]) {
    mkdirSync(dir, { recursive: true });
  }
  await store.cleanupIngests(options.ingestGraceMs ?? DEFAULT_INGEST_GRACE_MS);
  return store;
}

class LocalContentStore implements ContentStore {
  readonly root: string;
  readonly #ingestDir: string;
  /** writeBlob's ingests in progress, by the digest they must have (readWhileWritten follows them). */
  readonly #writing = new Map<Digest, IngestWriter>();
  /** Emits a digest's name with its writer when a writeBlob of it starts. */
  readonly #started = new EventEmitter().setMaxListeners(0);

  constructor(root: string) {
    this.root = root;
    this.#ingestDir = join(root, 'ingest');
  }

  blobPath(digest: Digest): string {
    const colon = digest.indexOf(':');
    return join(this.root, 'blobs', digest.slice(0, colon), digestHex(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      statSync(this.blobPath(digest));
      return true;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = statSync(this.blobPath(digest));
      return { digest, size: st.size, updatedAt: st.mtime };
    } catch (e) {
      throw notFoundOr(e, digest);
    }
  }

  async reader(digest: Digest, options: ReadOptions = {}): Promise<Readable> {
    let fh;
    try {
      fh = await open(this.blobPath(digest), 'r');
    } catch (e) {
      throw notFoundOr(e, digest);
    }
    const end = options.end === undefined ? {} : { end: options.end - 1 }; // fs counts it inclusive
    return fh.createReadStream({ start: options.start ?? 0, ...end, highWaterMark: 1 << 20 });
  }

  async readBytes(digest: Digest, limit = DEFAULT_READ_LIMIT): Promise<Buffer> {
    let fd;
    try {
      fd = openSync(this.blobPath(digest), 'r');
    } catch (e) {
      throw notFoundOr(e, digest);
    }
    try {
      const { size } = fstatSync(fd);
      if (size > limit) throw new ContentError('TOO_LARGE', `blob ${digest} is ${size} bytes, above the ${limit}-byte limit for in-memory reads`);
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async writer(ref = 'unnamed'): Promise<BlobWriter> {
    return IngestWriter.open(ref, this.#ingestPaths());
  }

  #ingestPaths(): IngestPaths {
    return { ingestDir: this.#ingestDir, blobPath: (d) => this.blobPath(d) };
  }

  async writeBlob(source: Uint8Array | Readable, expected: ExpectedContent = {}): Promise<BlobInfo> {
    if (expected.digest !== undefined && (await this.has(expected.digest))) {
      if (source instanceof Readable) source.destroy();
      const info = await this.info(expected.digest);
      if (expected.size !== undefined && expected.size !== info.size) {
        throw new ContentError('SIZE_MISMATCH', `blob ${expected.digest} is ${info.size} bytes, expected ${expected.size}`);
      }
      const now = new Date();
      await utimes(this.blobPath(expected.digest), now, now).catch(() => undefined);
      return { ...info, updatedAt: now };
    }
    if (!(source instanceof Readable)) {
      return ingestBytes(expected.digest ?? 'writeBlob', source, this.#ingestPaths(), expected.size, expected.digest);
    }
    const w = await IngestWriter.open(expected.digest ?? 'writeBlob', this.#ingestPaths());
    const digest = expected.digest;
    if (digest !== undefined) {
      this.#writing.set(digest, w);
      this.#started.emit(digest, w);
    }
    try {
      await pipeline(source, w, { end: false });
      return await w.commit(expected.size, expected.digest);
    } catch (e) {
      await w.abort();
      throw e;
    } finally {
      if (digest !== undefined && this.#writing.get(digest) === w) this.#writing.delete(digest);
    }
  }

  async readWhileWritten(digest: Digest, done: Promise<unknown>): Promise<Readable> {
    const writer = await this.#writerOf(digest, done);
    if (writer === undefined) return this.reader(digest);
    return Readable.from(followIngest(writer, done, () => this.reader(digest)), { objectMode: false });
  }

  /** The writeBlob writing `digest` now or once it starts; undefined when `done` resolves first (rejects with it). */
  #writerOf(digest: Digest, done: Promise<unknown>): Promise<IngestWriter | undefined> {
    const now = this.#writing.get(digest);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const started = (w: IngestWriter) => resolve(w);
      this.#started.once(digest, started);
      done.then(
        () => {
          this.#started.off(digest, started);
          resolve(undefined);
        },
        (e: unknown) => {
          this.#started.off(digest, started);
          reject(e);
        },
      );
    });
  }

  sourcesOf(digest: Digest, domain: string): Promise<readonly string[]> {
    return sourcesOf(this.root, digest, domain);
  }

  recordSource(digest: Digest, domain: string, repository: string): Promise<void> {
    return recordSource(this.root, digest, domain, repository);
  }

  async delete(digest: Digest): Promise<boolean> {
    await forgetSources(this.root, digest);
    try {
      await rm(this.blobPath(digest));
      return true;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  async *walk(): AsyncIterable<BlobInfo> {
    const blobs = join(this.root, 'blobs');
    for (const algorithm of await readdir(blobs)) {
      let names: string[];
      try {
        names = await readdir(join(blobs, algorithm));
      } catch (e) {
        if (errnoCode(e) === 'ENOTDIR' || errnoCode(e) === 'ENOENT') continue;
        throw e;
      }
      for (const name of names) {
        const digest = `${algorithm}:${name}`;
        if (!isDigest(digest)) continue;
        try {
          const st = await stat(join(blobs, algorithm, name));
          yield { digest, size: st.size, updatedAt: st.mtime };
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e; // deleted while walking
        }
      }
    }
  }

  async listIngests(): Promise<readonly IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const name of readdirSync(this.#ingestDir)) {
      try {
        const st = statSync(join(this.#ingestDir, name));
        out.push({ name, pid: ingestOwner(name) ?? 0, size: st.size, updatedAt: st.mtime });
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
    }
    return out;
  }

  async cleanupIngests(graceMs = DEFAULT_INGEST_GRACE_MS): Promise<readonly string[]> {
    const removed: string[] = [];
    const now = Date.now();
    for (const ingest of await this.listIngests()) {
      const abandoned = now - ingest.updatedAt.getTime() > graceMs;
      if (abandoned || !isPidAlive(ingest.pid)) {
        await rm(join(this.#ingestDir, ingest.name), { force: true });
        removed.push(ingest.name);
      }
    }
    return removed;
  }
}

function notFoundOr(e: unknown, digest: Digest): unknown {
  return errnoCode(e) === 'ENOENT' ? new ContentError('NOT_FOUND', `blob ${digest} not found in the content store`, { cause: e }) : e;
}
