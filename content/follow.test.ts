import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isContentError, openContentStore, sha256Of, type ContentStore } from './index.js';

let dir: string;
let store: ContentStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-follow-'));
  store = await openContentStore(join(dir, 'content'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const parts = [Buffer.alloc(3 << 20, 'a'), Buffer.alloc(1 << 20, 'b'), Buffer.from('the end\n')];
const whole = Buffer.concat(parts);
const digest = sha256Of(whole);

/** Reads `stream` to its end, noting what the source had sent when each chunk arrived. */
async function drain(stream: Readable, sent: () => number): Promise<{ bytes: Buffer; sentAtFirstChunk: number }> {
  const chunks: Buffer[] = [];
  let sentAtFirstChunk = -1;
  for await (const chunk of stream) {
    if (sentAtFirstChunk < 0) sentAtFirstChunk = sent();
    chunks.push(chunk as Buffer);
  }
  return { bytes: Buffer.concat(chunks), sentAtFirstChunk };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('reading a blob while it is written', () => {
  it('gives the bytes as they arrive, and ends only once the blob is committed', async () => {
    const source = new PassThrough();
    const written = store.writeBlob(source, { digest, size: whole.length });
    let committed = false;
    void written.then(() => (committed = true));
    let sent = 0;
    const reading = store.readWhileWritten(digest, written).then((s) => drain(s, () => sent));
    for (const part of parts) {
      await tick();
      source.write(part);
      sent++;
    }
    await tick();
    expect(committed).toBe(false); // the source has not ended: nothing is committed yet
    source.end();
    const { bytes, sentAtFirstChunk } = await reading;
    expect(committed).toBe(true);
    expect(bytes.equals(whole)).toBe(true);
    // The first bytes came before the source had sent everything.
    expect(sentAtFirstChunk).toBeLessThan(parts.length);
    expect((await store.readBytes(digest, 8 << 20)).equals(whole)).toBe(true);
  });

  it('fails when the bytes do not match the digest, and nothing is committed', async () => {
    const source = new PassThrough();
    const wrong = sha256Of(Buffer.from('something else'));
    const written = store.writeBlob(source, { digest: wrong });
    written.catch(() => {});
    const reading = store.readWhileWritten(wrong, written).then((s) => drain(s, () => 0));
    await tick();
    source.end(whole);
    const error = await reading.then(() => undefined, (e: unknown) => e);
    expect(isContentError(error) && error.reason).toBe('DIGEST_MISMATCH');
    expect(await store.has(wrong)).toBe(false);
    expect(await readdir(join(store.root, 'ingest'))).toEqual([]);
  });

  it('fails when the source breaks off', async () => {
    const source = new PassThrough();
    const written = store.writeBlob(source, { digest, size: whole.length });
    written.catch(() => {});
    const reading = store.readWhileWritten(digest, written).then((s) => drain(s, () => 0));
    await tick();
    source.write(parts[0]);
    await tick();
    source.destroy(new Error('connection reset'));
    await expect(reading).rejects.toThrow('connection reset');
    expect(await store.has(digest)).toBe(false);
  });

  it('waits for a write that has not started yet', async () => {
    let start!: () => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    const written = started.then(() => store.writeBlob(PassThroughOf(parts), { digest }));
    const reading = store.readWhileWritten(digest, written).then((s) => drain(s, () => 0));
    await tick();
    start();
    expect((await reading).bytes.equals(whole)).toBe(true);
  });

  it('reads the committed blob when the write is over, or was never needed', async () => {
    // Over before the read starts.
    const written = store.writeBlob(PassThroughOf(parts), { digest });
    await written;
    expect((await drain(await store.readWhileWritten(digest, written), () => 0)).bytes.equals(whole)).toBe(true);
    // Already present: writeBlob reads nothing and writes nothing.
    const again = store.writeBlob(PassThroughOf(parts), { digest });
    expect((await drain(await store.readWhileWritten(digest, again), () => 0)).bytes.equals(whole)).toBe(true);
  });

  it('fails with the fetch when no write ever starts', async () => {
    const failed = Promise.reject(new Error('registry unreachable'));
    await expect(store.readWhileWritten(digest, failed)).rejects.toThrow('registry unreachable');
  });
});

function PassThroughOf(chunks: readonly Buffer[]): PassThrough {
  const p = new PassThrough();
  for (const c of chunks) p.write(c);
  p.end();
  return p;
}
