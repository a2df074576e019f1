// IngestWriter: bytes written and hashed off the main thread, as the store's writer sees them.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openContentStore, sha256Of, type ContentStore, type Digest } from './index.js';
import { transpileForChild } from './testing.js';

let dir: string;
let store: ContentStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-ingest-'));
  store = await openContentStore(join(dir, 'content'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ingestFiles = () => readdir(join(store.root, 'ingest'));

function digestOf(chunks: readonly Uint8Array[]): Digest {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return `sha256:${h.digest('hex')}` as Digest;
}

describe('IngestWriter', () => {
  it('a stream of uneven chunks, empty ones too, commits under the digest node:crypto gives', async () => {
    const sizes = [0, 1, 65536, 0, 131072, 7, 1 << 20, 3, 0, 250_000, 65535];
    const chunks = Array.from({ length: 40 }, (_, i) => randomBytes(sizes[i % sizes.length]!));
    const expected = digestOf(chunks);
    const w = await store.writer('uneven');
    await pipeline(Readable.from(chunks), w, { end: false }); // as writeBlob does
    const size = Buffer.concat(chunks).length;
    const info = await w.commit(size, expected);
    expect(info).toMatchObject({ digest: expected, size });
    expect(w.written).toBe(size);
    expect((await store.readBytes(expected, 64 << 20)).equals(Buffer.concat(chunks))).toBe(true);
    expect(await ingestFiles()).toEqual([]);
  });

  it('chunks queued while a write runs go out as one batch, in order', async () => {
    const chunks = Array.from({ length: 2000 }, (_, i) => randomBytes(i % 97));
    const w = await store.writer('batched');
    w.cork();
    for (const c of chunks) w.write(c);
    process.nextTick(() => w.uncork());
    const info = await w.commit();
    expect(info.digest).toBe(digestOf(chunks));
    expect((await store.readBytes(info.digest)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('destroy while a write is running waits for it, then removes the ingest', async () => {
    const w = await store.writer('destroyed');
    const big = randomBytes(32 << 20);
    w.write(big);
    w.write(big.subarray(0, 1 << 20));
    expect(await ingestFiles()).toHaveLength(1);
    w.destroy();
    await once(w, 'close');
    expect(await ingestFiles()).toEqual([]);
    expect(await store.has(digestOf([big, big.subarray(0, 1 << 20)]))).toBe(false);
    await expect(w.commit()).rejects.toThrow(/after commit, abort or destroy/);
  });

  it('the digest of a committed writer describes the file, not a re-read: a wrong one is refused', async () => {
    const bytes = randomBytes(3 << 20);
    const w = await store.writer('checked');
    w.write(bytes);
    await expect(w.commit(bytes.length, sha256Of('not these bytes'))).rejects.toThrow(/expected sha256:/);
    expect(await ingestFiles()).toEqual([]);
    expect(await store.has(digestOf([bytes]))).toBe(false);
  });

  it('a write the file system refuses fails the writer and leaves nothing', async () => {
    // A child with a 64 KiB file-size limit: the first writev is cut short at the limit, the
    // next fails with EFBIG (Node ignores SIGXFSZ), and the ingest must go.
    const url = await transpileForChild(join(dir, 'js'), ['content', 'errors', 'native']);
    const script = `
      import { readdir } from 'node:fs/promises';
      import { openContentStore } from ${JSON.stringify(url('content/index.js'))};
      const store = await openContentStore(process.argv[1]);
      const w = await store.writer('too big');
      w.on('error', () => {});
      w.write(Buffer.alloc(1 << 20, 1));
      let code;
      try { await w.commit(); } catch (e) { code = e.code; }
      const blobs = [];
      for await (const b of store.walk()) blobs.push(b.digest);
      process.stdout.write(JSON.stringify({ code, ingests: await readdir(process.argv[1] + '/ingest'), blobs }));`;
    const child = spawn('prlimit', [`--fsize=${64 << 10}`, process.execPath, '--input-type=module', '-e', script, join(dir, 'limited')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [status] = (await once(child, 'exit')) as [number | null];
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ code: 'EFBIG', ingests: [], blobs: [] });
  });
});
