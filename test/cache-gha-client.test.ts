// tsbuild's GitHub Actions cache client (cache/gha/client.ts) against the loopback service and
// azurite: a blob larger than one block goes up as blocks and a block list and comes back
// byte for byte; a key taken is "exists"; a read-only token is "denied"; 5xx then success.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginGhaCache, GHA_VERSION, openGhaCache, writeGhaCache } from '../cache/gha/cache.js';
import { GhaClient } from '../cache/gha/client.js';
import { encodeCache } from '../cache/format.js';
import { sha256Of } from '../content/index.js';
import { MediaType } from '../oci/index.js';
import { startAzurite, type Azurite } from './support/azurite.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from './support/gha-cache.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-gha-client-'));
let azurite: Azurite;
let service: GhaCacheService;

beforeAll(async () => {
  azurite = await startAzurite();
  service = await startGhaCacheService(azurite);
}, 60_000);
afterAll(async () => {
  await service?.close();
  await azurite?.stop();
  rmSync(work, { recursive: true, force: true });
});

const client = (permission: number, blockSize?: number) =>
  new GhaClient({
    url: service.url,
    token: service.token([{ scope: 'refs/heads/main', permission }]),
    timeoutMs: 30_000,
    code: 'CACHE_EXPORT',
    ...(blockSize === undefined ? {} : { blockSize }),
  });

async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('GhaClient', () => {
  it('uploads a blob larger than a block as blocks and a block list, and downloads it whole', async () => {
    const bytes = randomBytes(2.5 * 1024 * 1024);
    const path = join(work, 'big');
    writeFileSync(path, bytes);
    const c = client(READ | WRITE, 1024 * 1024);
    const r = await c.reserve('big-1', 'v1');
    if (!('uploadUrl' in r)) throw new Error(`not reserved: ${JSON.stringify(r)}`);
    await c.upload(r.uploadUrl, path, bytes.length);
    await c.finalize('big-1', 'v1', bytes.length);
    expect(service.entries().find((e) => e.key === 'big-1')).toMatchObject({ finalized: true, size: bytes.length });
    const found = await c.lookup('big-1', 'v1');
    expect(found?.matchedKey).toBe('big-1');
    expect((await readAll(await c.download(found!.url))).equals(bytes)).toBe(true);
    // A key taken is "exists", not an error.
    expect(await c.reserve('big-1', 'v1')).toEqual({ exists: true });
  });

  it('a read-only token is denied with the service\'s message; a miss is undefined', async () => {
    expect(await client(READ).reserve('ro-1', 'v1')).toEqual({ denied: 'cache write denied: token has no writable scopes' });
    expect(await client(READ).lookup('no-such-key', 'v1')).toBeUndefined();
  });

  it('retries 5xx answers and a plain 502 of a proxy, counting each try', async () => {
    const c = client(READ | WRITE);
    service.failNext(1, { status: 503 });
    service.failNext(1, { status: 502 });
    const r = await c.reserve('flaky-1', 'v1');
    expect('uploadUrl' in r).toBe(true);
    expect(c.requests).toBe(3);
  });

  it('gives up on 5xx after a few tries, with the status in the message', async () => {
    const c = client(READ | WRITE);
    // One try and four retries: exactly the faults queued, none left for later tests.
    service.failNext(5, { status: 500 }, 'GetCacheEntryDownloadURL');
    await expect(c.lookup('any', 'v1')).rejects.toThrow('GetCacheEntryDownloadURL: HTTP 500 (after 5 tries)');
    expect(await c.lookup('any', 'v1')).toBeUndefined();
  });
});

describe('the gha cache over the client', () => {
  it('round-trips a cache (a small layer: in a pack); a URL that expired after its lookup is looked up afresh once', async () => {
    const layer = randomBytes(4096);
    const digest = sha256Of(layer);
    writeFileSync(join(work, 'layer'), layer);
    const blob = { mediaType: MediaType.ociLayerGzip, digest, size: layer.length };
    const key = sha256Of(Buffer.from('a step'));
    const cache = encodeCache([{ key, chain: [{ blob, diffId: sha256Of(Buffer.from('diff')) }] }]);
    const endpoint = { url: service.url, token: service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]), timeoutMs: 30_000 };
    expect(await writeGhaCache(endpoint, 'round-trip', cache, async () => join(work, 'layer'))).toMatchObject({ uploaded: 0, skipped: 0, packed: 1 });

    const source = await openGhaCache(endpoint, 'round-trip');
    if ('missing' in source) throw new Error(source.missing);
    expect(source.records.get(key)?.map((l) => l.blob.digest)).toEqual([digest]);
    // The lookup hands out an expired URL; by the time the layer is read, URLs are valid again.
    service.expireDownloadUrls(true);
    try {
      expect(await source.available!(blob)).toBe(true);
    } finally {
      service.expireDownloadUrls(false);
    }
    expect((await readAll(await source.open(blob))).equals(layer)).toBe(true);

    // Expired for good: the read fails (the import does not trust it), after one fresh lookup.
    const again = await openGhaCache(endpoint, 'round-trip');
    if ('missing' in again) throw new Error(again.missing);
    service.expireDownloadUrls(true);
    try {
      await expect(again.open(blob)).rejects.toThrow('HTTP 403');
    } finally {
      service.expireDownloadUrls(false);
    }
  });

  it('an export to the scope it imported names the imported pack again, unless the import found it evicted', async () => {
    const layer = randomBytes(1000);
    const digest = sha256Of(layer);
    writeFileSync(join(work, 'small'), layer);
    const blob = { mediaType: MediaType.ociLayerGzip, digest, size: layer.length };
    const cache = encodeCache([{ key: sha256Of(Buffer.from('small step')), chain: [{ blob, diffId: sha256Of(Buffer.from('small diff')) }] }]);
    const endpoint = { url: service.url, token: service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]), timeoutMs: 30_000 };
    const packs = () => service.entries().filter((e) => e.key.startsWith('tsbuild-pack-'));
    await writeGhaCache(endpoint, 'reuse', cache, async () => join(work, 'small'));
    const pack = packs().at(-1)!;

    const source = await openGhaCache(endpoint, 'reuse');
    if ('missing' in source) throw new Error(source.missing);
    const reuse = await beginGhaCache(endpoint, 'reuse', async () => join(work, 'small'), source);
    expect(await reuse.putBlob(blob)).toBe('present');
    await reuse.finish(cache);
    expect(packs().at(-1)).toEqual(pack);

    await service.evict(pack.key);
    const after = await openGhaCache(endpoint, 'reuse');
    if ('missing' in after) throw new Error(after.missing);
    expect(await after.available!(blob)).toBe(false);
    const again = await beginGhaCache(endpoint, 'reuse', async () => join(work, 'small'), after);
    expect(await again.putBlob(blob)).toBe('deferred');
    await again.finish(cache);
    // The same blob alone makes the same pack: written anew under its key.
    expect(packs().at(-1)).toMatchObject({ key: pack.key, finalized: true });
    const restored = await openGhaCache(endpoint, 'reuse');
    if ('missing' in restored) throw new Error(restored.missing);
    expect((await readAll(await restored.open(blob))).equals(layer)).toBe(true);
  });
  it('a layer whose entry another export reserved and never finalized goes under a key of this export, which the index names and a later export finds', async () => {
    const layer = randomBytes(600 * 1024); // past the pack threshold: an entry of its own
    const digest = sha256Of(layer);
    writeFileSync(join(work, 'stuck'), layer);
    const blob = { mediaType: MediaType.ociLayerGzip, digest, size: layer.length };
    const cache = encodeCache([{ key: sha256Of(Buffer.from('stuck step')), chain: [{ blob, diffId: sha256Of(Buffer.from('stuck diff')) }] }]);
    const endpoint = { url: service.url, token: service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]), timeoutMs: 30_000 };
    // An export that died after reserving the layer's entry.
    const plainKey = `tsbuild-blob-${digest.slice('sha256:'.length)}`;
    expect(await client(READ | WRITE).reserve(plainKey, GHA_VERSION)).toHaveProperty('uploadUrl');

    expect(await writeGhaCache(endpoint, 'stuck', cache, async () => join(work, 'stuck'))).toMatchObject({ uploaded: 1, skipped: 0 });
    const stored = service.entries().filter((e) => e.key.startsWith(`${plainKey}-`) && e.finalized);
    expect(stored).toHaveLength(1);
    const source = await openGhaCache(endpoint, 'stuck');
    if ('missing' in source) throw new Error(source.missing);
    expect(await source.available!(blob)).toBe(true);
    expect((await readAll(await source.open(blob))).equals(layer)).toBe(true);

    // Another export, not importing: the service answers the plain key with that entry, which serves.
    expect(await writeGhaCache(endpoint, 'stuck-2', cache, async () => join(work, 'stuck'))).toMatchObject({ uploaded: 0, skipped: 1 });
    expect(service.entries().filter((e) => e.key.startsWith(`${plainKey}-`))).toHaveLength(1);
    const second = await openGhaCache(endpoint, 'stuck-2');
    if ('missing' in second) throw new Error(second.missing);
    expect((await readAll(await second.open(blob))).equals(layer)).toBe(true);
  });
});
