import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asDigest, DigestTap, isContentError, openContentStore, type ContentStore, type Digest } from '../content/index.js';
import { compressLayer, openLayerTar } from './index.js';
import { MediaType } from '../oci/index.js';
import { busyboxEntries, layerTar } from './testing.js';

let dir: string;
let store: ContentStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-layers-'));
  store = await openContentStore(join(dir, 'content'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function digestOf(stream: AsyncIterable<Buffer>): Promise<Digest> {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c);
  return asDigest(`sha256:${h.digest('hex')}`);
}

describe('compressLayer', () => {
  it('gzips once per diff id; the blob decompresses to the tar', async () => {
    const diffId = await digestOf(layerTar(busyboxEntries));
    let opened = 0;
    const open = () => (opened++, layerTar(busyboxEntries));
    const first = await compressLayer(open, 'gzip', { store, diffId });
    expect(first.diffId).toBe(diffId);
    expect(first.blob.mediaType).toBe(MediaType.ociLayerGzip);
    expect((await store.info(first.blob.digest)).size).toBe(first.blob.size);
    const again = await compressLayer(open, 'gzip', { store, diffId, level: 9 });
    expect(again).toEqual(first);
    expect(opened).toBe(1);
    expect(await digestOf(await openLayerTar(store, first.blob))).toBe(diffId);
    // Pruned blob: the memo no longer counts, the layer is made again.
    await store.delete(first.blob.digest);
    await compressLayer(open, 'gzip', { store, diffId });
    expect(opened).toBe(2);
  });

  it('uncompressed: the blob is the tar, its digest the diff id', async () => {
    const layer = await compressLayer(() => layerTar(busyboxEntries), 'uncompressed', { store });
    expect(layer.blob.digest).toBe(layer.diffId);
    expect(layer.blob.mediaType).toBe(MediaType.ociLayer);
  });

  it('a tar that does not match the given diff id fails and leaves nothing', async () => {
    const wrong = asDigest(`sha256:${'e'.repeat(64)}`);
    await expect(compressLayer(() => layerTar(busyboxEntries), 'gzip', { store, diffId: wrong }))
      .rejects.toSatisfy((e) => isContentError(e, 'DIGEST_MISMATCH'));
    const blobs = [];
    for await (const b of store.walk()) blobs.push(b);
    expect(blobs).toEqual([]);
    expect(await readdir(join(store.root, 'ingest'))).toEqual([]);
  });

  it('zstd: the blob decompresses to the tar of the diff id', async () => {
    const layer = await compressLayer(() => layerTar(busyboxEntries), 'zstd', { store, level: 9 });
    expect(layer.blob.mediaType).toBe(MediaType.ociLayerZstd);
    const tap = new DigestTap();
    await pipeline(await openLayerTar(store, layer.blob), tap, new Writable({ write: (_c, _e, cb) => cb() }));
    expect(tap.digest).toBe(layer.diffId);
  });
});
