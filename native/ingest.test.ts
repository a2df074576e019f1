// The addon's hashing writes (native/addon/ingest.c) against node:crypto and the file itself.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNativeError, native } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-native-ingest-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sha256Hex(chunks: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** Writes `calls` (each a writeAndHash call's buffers) to a new file; its digest and bytes. */
async function writeCalls(path: string, calls: readonly (readonly Uint8Array[])[]) {
  const addon = native();
  const handle = addon.sha256Writer();
  const fh = await open(path, 'wx');
  const counts: number[] = [];
  try {
    for (const buffers of calls) counts.push(await addon.writeAndHash(handle, fh.fd, buffers));
  } finally {
    await fh.close();
  }
  return { digest: addon.digestHex(handle), counts, bytes: await readFile(path) };
}

describe('writeAndHash', () => {
  it('writes exactly the bytes given and hashes them as node:crypto does, however they are cut', async () => {
    // Chunks from empty to 200 KiB, in calls of zero to a dozen buffers; random contents.
    const chunk = fc.integer({ min: 0, max: 200 << 10 }).map((n) => randomBytes(n));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(chunk, { maxLength: 12 }), { maxLength: 8 }), async (calls) => {
        const all = calls.flat();
        const got = await writeCalls(join(dir, `f${run++}`), calls);
        expect(got.counts).toEqual(calls.map((c) => c.reduce((n, b) => n + b.length, 0)));
        expect(got.bytes.equals(Buffer.concat(all))).toBe(true);
        expect(got.digest).toBe(sha256Hex(all));
      }),
      { numRuns: 40 },
    );
  });

  it('takes more buffers in one call than one writev can (IOV_MAX is 1024), and any Uint8Array view', async () => {
    const backing = randomBytes(1 << 16);
    const buffers: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const start = (i * 37) % 60000;
      const len = i % 7 === 0 ? 0 : (i * 13) % 300;
      buffers.push(i % 2 === 0 ? backing.subarray(start, start + len) : new Uint8Array(backing.buffer, backing.byteOffset + start, len));
    }
    const got = await writeCalls(join(dir, 'many'), [buffers]);
    expect(got.bytes.equals(Buffer.concat(buffers))).toBe(true);
    expect(got.digest).toBe(sha256Hex(buffers));
  });

  it('continues short writes: one call above what a single writev takes (2 GiB - 4 KiB)', async () => {
    // /dev/null accepts everything, but the kernel caps one writev at MAX_RW_COUNT, so this
    // call needs a second writev, and the hash must follow exactly. Zero-filled buffers cost
    // no memory until written to. (The write-behind's sync_file_range fails here, ESPIPE,
    // which must change nothing.)
    const zeros = Buffer.alloc(1 << 30);
    const tail = randomBytes(12345);
    const buffers = [zeros, zeros, tail];
    const addon = native();
    const handle = addon.sha256Writer();
    const fh = await open('/dev/null', 'w');
    try {
      expect(await addon.writeAndHash(handle, fh.fd, buffers)).toBe(2 * (1 << 30) + tail.length);
    } finally {
      await fh.close();
    }
    expect(addon.digestHex(handle)).toBe(sha256Hex(buffers));
  });

  it('past the write-behind threshold (8 MiB) a file still gets every byte once, in order', async () => {
    const calls = Array.from({ length: 20 }, () => [randomBytes(700 << 10), randomBytes(324 << 10)]);
    const got = await writeCalls(join(dir, 'big'), calls);
    expect(got.bytes.equals(Buffer.concat(calls.flat()))).toBe(true);
    expect(got.digest).toBe(sha256Hex(calls.flat()));
  });

  it('an empty call settles at once and leaves the hash as it was', async () => {
    const got = await writeCalls(join(dir, 'empty'), [[], [Buffer.alloc(0)], [Buffer.from('abc')], []]);
    expect(got.counts).toEqual([0, 0, 3, 0]);
    expect(got.digest).toBe(sha256Hex([Buffer.from('abc')]));
    expect((await writeCalls(join(dir, 'nothing'), [])).digest).toBe(sha256Hex([]));
  });

  it('rejects a failed write with an fs-shaped error, and the handle is unusable after', async () => {
    const addon = native();
    await writeFile(join(dir, 'ro'), '');
    // A descriptor open for reading only; a device that is always full.
    for (const [path, flags, code] of [[join(dir, 'ro'), 'r', 'EBADF'], ['/dev/full', 'w', 'ENOSPC']] as const) {
      const handle = addon.sha256Writer();
      const fh = await open(path, flags);
      let error: unknown;
      try {
        await addon.writeAndHash(handle, fh.fd, [Buffer.from('data')]);
      } catch (e) {
        error = e;
      } finally {
        await fh.close();
      }
      expect(isNativeError(error, code)).toBe(true);
      expect(error).toMatchObject({ code, syscall: 'writev', errno: expect.any(Number) });
      expect(() => addon.digestHex(handle)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
      expect(() => addon.writeAndHash(handle, 1, [])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    }
  });

  it('one write at a time per handle, and nothing after the digest', async () => {
    const addon = native();
    const handle = addon.sha256Writer();
    const fh = await open(join(dir, 'one'), 'wx');
    try {
      const first = addon.writeAndHash(handle, fh.fd, [randomBytes(1 << 20)]);
      expect(() => addon.writeAndHash(handle, fh.fd, [Buffer.from('x')])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
      expect(() => addon.digestHex(handle)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
      expect(await first).toBe(1 << 20);
      addon.digestHex(handle);
      expect(() => addon.digestHex(handle)).toThrow(/already taken/);
      expect(() => addon.writeAndHash(handle, fh.fd, [Buffer.from('x')])).toThrow(/already taken/);
    } finally {
      await fh.close();
    }
  });

  it('refuses what is not a handle, a descriptor or an array of buffers', () => {
    const addon = native();
    const handle = addon.sha256Writer();
    const notHandle = {} as unknown as ReturnType<typeof addon.sha256Writer>;
    expect(() => addon.digestHex(notHandle)).toThrow(TypeError);
    expect(() => addon.writeAndHash(notHandle, 1, [])).toThrow(TypeError);
    expect(() => addon.writeAndHash(handle, -1, [])).toThrow(TypeError);
    expect(() => addon.writeAndHash(handle, 1, ['text' as unknown as Uint8Array])).toThrow(TypeError);
    expect(() => addon.writeAndHash(handle, 1, Buffer.from('x') as unknown as Uint8Array[])).toThrow(TypeError);
    // Refused calls leave the handle as it was.
    expect(addon.digestHex(handle)).toBe(sha256Hex([]));
  });
});
