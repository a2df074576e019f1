/**
 * Reading a blob while this process is still writing it, so that a layer is unpacked as it
 * downloads rather than after.
 *
 * The reader tails the writer's ingest file through a descriptor of its own: the file keeps
 * its bytes when the commit renames it into blobs/ or an abort unlinks it. It reads only what
 * the writer has already written, and it ends only once the write has been committed, size and
 * digest checked. A download that fails, or whose bytes do not match, fails the reader: what
 * was read from it must then be thrown away by whoever read it.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { errnoCode } from './errors.js';

/** What the reader needs of an ingest in progress (IngestWriter). */
export interface GrowingIngest {
  readonly path: string;
  /** Bytes in the file so far. */
  readonly written: number;
  /** Called after each append and once the ingest is committed or dropped; returns its removal. */
  onProgress(listener: () => void): () => void;
}

const CHUNK = 1 << 20;

/**
 * The bytes of `ingest` as they are written; `done` settles once the write is over (committed,
 * or failed). `committed` opens the blob, for when the ingest file is gone before it is opened.
 */
export async function* followIngest(
  ingest: GrowingIngest,
  done: Promise<unknown>,
  committed: () => Promise<AsyncIterable<Uint8Array>>,
): AsyncGenerator<Uint8Array> {
  let fh: FileHandle;
  try {
    fh = await open(ingest.path, 'r');
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    // Committed (renamed) or dropped in the meantime: the outcome says which.
    await done;
    yield* await committed();
    return;
  }
  let over = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stop = ingest.onProgress(signal);
  done.then(
    () => {
      over = true;
      signal();
    },
    (error: unknown) => {
      over = true;
      failure = { error };
      signal();
    },
  );
  try {
    let offset = 0;
    for (;;) {
      if (failure !== undefined) throw failure.error;
      const available = ingest.written - offset;
      if (available > 0) {
        const buffer = Buffer.allocUnsafe(Math.min(available, CHUNK));
        const { bytesRead } = await fh.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) throw new Error(`ingest ${ingest.path} is shorter than the ${ingest.written} bytes written to it`);
        offset += bytesRead;
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      // Everything written is read: the end once the write is over, else wait for more.
      if (over) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stop();
    await fh.close();
  }
}
