/** BLAKE3 of a file's bytes: small files read at once, larger ones streamed (never whole in memory). */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { fsPath } from '../../../tarfs/index.js';

/**
 * Hex digest of the file at a host path (byte-escaped, as tarfs/byte-names.ts has it);
 * must not follow a symlink; stops with the signal's reason once it is aborted. Injectable for tests.
 */
export type FileHasher = (path: string, signal?: AbortSignal) => Promise<string>;

/** Files up to this size are read in one call: a stream costs more than the read itself. */
const SMALL_FILE = 1 << 20;

export const blake3File: FileHasher = async (path, signal) => {
  const handle = await open(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const hasher = new Blake3Hasher();
    const { size } = await handle.stat();
    if (size <= SMALL_FILE) {
      const buffer = Buffer.allocUnsafe(size + 1); // one spare byte notices a file that grew
      let filled = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
        if (filled === buffer.length) break;
      }
      if (filled <= size) return hasher.update(buffer.subarray(0, filled)).digest('hex');
      // It grew past the small-file size while being read: hash it as a stream from the start.
    }
    // A file of gigabytes takes seconds: an interrupted build stops between two MiB.
    for await (const chunk of handle.createReadStream({ autoClose: false, start: 0, highWaterMark: 1 << 20 })) {
      signal?.throwIfAborted();
      hasher.update(chunk as Buffer);
    }
    return hasher.digest('hex');
  } finally {
    await handle.close();
  }
};

/** One buffer for every small file hashed synchronously (the hash is taken before it is reused). */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * BLAKE3 of a small file, read with synchronous calls (a few microseconds each on a cached
 * file, against several times that for a trip through the thread pool); undefined when the
 * file is larger than a small file, for blake3File to stream. Must not follow a symlink.
 */
export function blake3SmallFileSync(path: string): string | undefined {
  const fd = openSync(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    if (size > SMALL_FILE) return undefined;
    if (scratch.length < size + 1) scratch = Buffer.allocUnsafe(Math.max(size + 1, scratch.length * 2));
    const want = size + 1; // one spare byte notices a file that grew
    let filled = 0;
    while (filled < want) {
      const n = readSync(fd, scratch, filled, want - filled, null);
      if (n === 0) break;
      filled += n;
    }
    if (filled > size) return undefined; // it grew while being read: streamed from the start
    return new Blake3Hasher().update(scratch.subarray(0, filled)).digest('hex');
  } finally {
    closeSync(fd);
  }
}
