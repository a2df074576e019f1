import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  asDigest, ContentError, DigestTap, isContentError, openContentStore, sha256Of, type ContentStore, type Digest,
} from './index.js';
import { transpileForChild } from './testing.js';

let dir: string;
let store: ContentStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-content-'));
  store = await openContentStore(join(dir, 'content'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hello = Buffer.from('hello, content store\n');
const helloDigest = sha256Of(hello);

async function ingestFiles(): Promise<string[]> {
  return readdir(join(store.root, 'ingest'));
}

describe('digest helpers', () => {
  it('asDigest accepts sha256 and refuses anything else', () => {
    expect(asDigest(helloDigest)).toBe(helloDigest);
    for (const bad of ['sha256:abc', 'md5:' + 'a'.repeat(32), 'sha256:' + 'A'.repeat(64), 'a'.repeat(64)]) {
      expect(() => asDigest(bad)).toThrow(ContentError);
    }
  });

  it('DigestTap passes bytes through and reports digest and size at the end', async () => {
    const tap = new DigestTap();
    const out: Buffer[] = [];
    await pipeline(Readable.from([hello.subarray(0, 5), hello.subarray(5)]), tap, async function* (src) {
      for await (const c of src) out.push(c as Buffer);
    });
    expect(Buffer.concat(out)).toEqual(hello);
    expect(tap.digest).toBe(helloDigest);
    expect(tap.size).toBe(hello.length);
  });

  it('DigestTap with an expectation fails the pipeline on a mismatch', async () => {
    const tap = new DigestTap({ digest: sha256Of('other') });
    await expect(pipeline(Readable.from([hello]), tap, async function* (src) { for await (const _ of src); }))
      .rejects.toSatisfy((e) => isContentError(e, 'DIGEST_MISMATCH'));
  });
});

describe('content store', () => {
  it('commit verifies and makes the blob readable', async () => {
    const w = await store.writer('hello');
    w.write(hello.subarray(0, 3));
    w.write(hello.subarray(3));
    const info = await w.commit(hello.length, helloDigest);
    expect(info).toMatchObject({ digest: helloDigest, size: hello.length });
    expect(await store.has(helloDigest)).toBe(true);
    expect((await store.info(helloDigest)).size).toBe(hello.length);
    expect(await store.readBytes(helloDigest)).toEqual(hello);
    const chunks: Buffer[] = [];
    for await (const c of await store.reader(helloDigest)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(hello);
    expect(await readFile(join(store.root, 'blobs', 'sha256', helloDigest.slice(7)))).toEqual(hello);
    expect(await ingestFiles()).toEqual([]);
  });

  it('a digest mismatch aborts and leaves nothing visible', async () => {
    const wrong = sha256Of('something else');
    const w = await store.writer();
    w.write(hello);
    await expect(w.commit(undefined, wrong)).rejects.toSatisfy((e) => isContentError(e, 'DIGEST_MISMATCH'));
    expect(await store.has(wrong)).toBe(false);
    expect(await store.has(helloDigest)).toBe(false);
    expect(await ingestFiles()).toEqual([]);
  });

  it('a size mismatch aborts and leaves nothing visible', async () => {
    await expect(store.writeBlob(hello, { size: hello.length + 1 })).rejects.toSatisfy((e) => isContentError(e, 'SIZE_MISMATCH'));
    expect(await store.has(helloDigest)).toBe(false);
    expect(await ingestFiles()).toEqual([]);
  });

  it('writes bytes held in memory as a stream would be written: read-only, verified, nothing left in ingest/', async () => {
    const info = await store.writeBlob(hello, { digest: helloDigest, size: hello.length });
    expect(info).toMatchObject({ digest: helloDigest, size: hello.length });
    const path = join(store.root, 'blobs', 'sha256', helloDigest.slice(7));
    expect(await readFile(path)).toEqual(hello);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect(await ingestFiles()).toEqual([]);
    const wrong = sha256Of('something else');
    await expect(store.writeBlob(Buffer.from('other bytes'), { digest: wrong })).rejects.toSatisfy((e) => isContentError(e, 'DIGEST_MISMATCH'));
    expect(await store.has(sha256Of('other bytes'))).toBe(false);
    await expect(store.writeBlob(hello, { digest: 'sha512:' + 'a'.repeat(128) as Digest })).rejects.toSatisfy((e) => isContentError(e, 'BAD_DIGEST'));
    expect(await ingestFiles()).toEqual([]);
  });

  it('abort drops the ingest', async () => {
    const w = await store.writer();
    w.write(hello);
    await w.abort();
    expect(await ingestFiles()).toEqual([]);
    expect(await store.has(helloDigest)).toBe(false);
  });

  it('a present blob counts as success, and writeBlob does not read the source again', async () => {
    await store.writeBlob(hello);
    const again = await store.writeBlob(hello, { digest: helloDigest, size: hello.length });
    expect(again.digest).toBe(helloDigest);
    let pulled = false;
    const source = new Readable({ read() { pulled = true; this.push(null); } });
    await store.writeBlob(source, { digest: helloDigest });
    expect(pulled).toBe(false);
    const w = await store.writer();
    w.end(hello);
    expect((await w.commit(hello.length, helloDigest)).digest).toBe(helloDigest);
  });

  it('writes a stream into a blob, digest computed on the way', async () => {
    const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(65536, i));
    const expected = sha256Of(Buffer.concat(parts));
    const info = await store.writeBlob(Readable.from(parts));
    expect(info).toMatchObject({ digest: expected, size: 64 * 65536 });
  });

  it('missing blobs are NOT_FOUND; delete and walk', async () => {
    const missing = sha256Of('missing');
    await expect(store.info(missing)).rejects.toSatisfy((e) => isContentError(e, 'NOT_FOUND'));
    await expect(store.reader(missing)).rejects.toSatisfy((e) => isContentError(e, 'NOT_FOUND'));
    await store.writeBlob(hello);
    const other = await store.writeBlob(Buffer.from('other'));
    const seen = [];
    for await (const b of store.walk()) seen.push(b.digest);
    expect(seen.sort()).toEqual([helloDigest, other.digest].sort());
    expect(await store.delete(helloDigest)).toBe(true);
    expect(await store.delete(helloDigest)).toBe(false);
    expect(await store.has(helloDigest)).toBe(false);
  });

  it('readBytes refuses large blobs', async () => {
    await store.writeBlob(Buffer.alloc(100));
    await expect(store.readBytes(sha256Of(Buffer.alloc(100)), 10)).rejects.toSatisfy((e) => isContentError(e, 'TOO_LARGE'));
  });

  it('many writers of one blob in one process all succeed', async () => {
    const writers = await Promise.all(Array.from({ length: 8 }, () => store.writer()));
    for (const w of writers) w.write(hello);
    const infos = await Promise.all(writers.map((w) => w.commit(hello.length, helloDigest)));
    expect(infos.every((i) => i.digest === helloDigest)).toBe(true);
    expect(await store.readBytes(helloDigest)).toEqual(hello);
    expect(await ingestFiles()).toEqual([]);
  });

  it('reader reads a byte range: start inclusive, end exclusive', async () => {
    await store.writeBlob(hello);
    const slice = async (start: number, end?: number) => {
      const chunks: Buffer[] = [];
      for await (const c of await store.reader(helloDigest, end === undefined ? { start } : { start, end })) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    };
    expect(await slice(7, 14)).toBe('content');
    expect(await slice(15)).toBe('store\n');
  });

  it('records where a blob lives in registries, latest first, and forgets it with the blob', async () => {
    await store.writeBlob(hello);
    expect(await store.sourcesOf(helloDigest, 'registry.test')).toEqual([]);
    await store.recordSource(helloDigest, 'registry.test', 'team/a');
    await store.recordSource(helloDigest, 'registry.test', 'team/b');
    await store.recordSource(helloDigest, 'other.test:5000', 'x');
    await store.recordSource(helloDigest, 'registry.test', 'team/a');
    expect(await store.sourcesOf(helloDigest, 'registry.test')).toEqual(['team/a', 'team/b']);
    expect(await store.sourcesOf(helloDigest, 'other.test:5000')).toEqual(['x']);
    // Kept in the store's own area, and reopened as it was.
    const reopened = await openContentStore(store.root);
    expect(await reopened.sourcesOf(helloDigest, 'registry.test')).toEqual(['team/a', 'team/b']);
    for (let i = 0; i < 20; i++) await store.recordSource(helloDigest, 'registry.test', `r${i}`);
    expect((await store.sourcesOf(helloDigest, 'registry.test'))[0]).toBe('r19');
    expect((await store.sourcesOf(helloDigest, 'registry.test')).length).toBeLessThanOrEqual(8);
    await store.delete(helloDigest);
    expect(await store.sourcesOf(helloDigest, 'registry.test')).toEqual([]);
    expect(await readdir(join(store.root, 'sources', 'sha256'))).toEqual([]);
  });

  it('stale ingests are removed on open: dead owner, or older than the grace period', async () => {
    const ingest = join(store.root, 'ingest');
    const deadPid = await deadProcessPid();
    await writeFile(join(ingest, `${deadPid}-0123abcd`), 'partial');
    await writeFile(join(ingest, `${process.pid}-aaaa0000`), 'live and fresh');
    await writeFile(join(ingest, `${process.pid}-bbbb1111`), 'live but ancient');
    const old = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(join(ingest, `${process.pid}-bbbb1111`), old, old);
    await openContentStore(store.root);
    expect(await ingestFiles()).toEqual([`${process.pid}-aaaa0000`]);
  });
});

describe('content store across processes', () => {
  it('two processes writing the same blob at once both succeed', async () => {
    const js = await transpiledContent();
    const root = join(dir, 'content');
    const chunks = 256; // 256 × 64 KiB = 16 MiB each, written in parallel
    const expected = createHash('sha256');
    for (let i = 0; i < chunks; i++) expected.update(Buffer.alloc(65536, i % 251));
    const digest = `sha256:${expected.digest('hex')}`;
    const script = `
      import { openContentStore } from ${JSON.stringify(js)};
      const store = await openContentStore(process.argv[1]);
      const w = await store.writer('same');
      for (let i = 0; i < ${chunks}; i++) {
        if (!w.write(Buffer.alloc(65536, i % 251))) await new Promise((r) => w.once('drain', r));
      }
      const info = await w.commit(${chunks * 65536}, process.argv[2]);
      process.stdout.write(info.digest);`;
    const results = await Promise.all([runNode(script, [root, digest]), runNode(script, [root, digest])]);
    for (const r of results) expect(r).toEqual({ code: 0, stdout: digest, stderr: '' });
    expect((await store.info(asDigest(digest))).size).toBe(chunks * 65536);
    expect(await ingestFiles()).toEqual([]);
  });

  it('a writer killed with SIGKILL mid-write leaves only an ingest, removed by the next open', async () => {
    const js = await transpiledContent();
    const root = join(dir, 'content');
    const script = `
      import { openContentStore } from ${JSON.stringify(js)};
      const store = await openContentStore(process.argv[1]);
      const w = await store.writer('doomed');
      w.write(Buffer.alloc(1 << 20, 7), () => process.stdout.write('written\\n'));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, root], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('written')) resolve(); });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const ingests = await ingestFiles();
    expect(ingests).toHaveLength(1);
    expect(ingests[0]).toMatch(new RegExp(`^${child.pid}-`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const reopened = await openContentStore(root);
    expect(await readdir(join(reopened.root, 'ingest'))).toEqual([]);
    const blobs = [];
    for await (const b of reopened.walk()) blobs.push(b);
    expect(blobs).toEqual([]);
  });
});

/** A pid that certainly belongs to no process now: a child that has exited. */
async function deadProcessPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

function runNode(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function transpiledContent(): Promise<string> {
  const url = await transpileForChild(join(dir, 'js'), ['content', 'errors', 'native']);
  return url('content/index.js');
}
