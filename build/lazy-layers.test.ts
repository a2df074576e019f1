import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decompressor, openContentStore, sha256Of, type ContentStore, type Descriptor } from '../content/index.js';
import { compressLayer, type LayerFormat } from '../exporter/index.js';
import { busyboxEntries, layerTar } from '../exporter/testing.js';
import type { LazyChain, LazyLayer } from '../solver/ops/index.js';
import { fetchingProvider, lazyLayerBlob } from './lazy-layers.js';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-lazy-layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The sha256 of a blob's bytes once decompressed: its diff id. */
async function diffIdOf(store: ContentStore, blob: Descriptor): Promise<string> {
  const hash = createHash('sha256');
  const compression = blob.mediaType.endsWith('+zstd') ? 'zstd' : blob.mediaType.endsWith('+gzip') ? 'gzip' : 'uncompressed';
  await pipeline(await store.reader(blob.digest), decompressor(compression), new Writable({ write: (c: Buffer, _e, cb) => cb(null, void hash.update(c)) }));
  return `sha256:${hash.digest('hex')}`;
}

describe('lazy layers (an imported hit not unpacked) as outputs take them', () => {
  // `remote` stands for the cache that holds the blobs; `local` is the build's content store.
  let remote: ContentStore;
  let local: ContentStore;
  let gzip: LazyLayer;
  let zstd: LazyLayer;
  const fetched: string[] = [];
  let chain: LazyChain;

  beforeAll(async () => {
    remote = await openContentStore(join(work, 'remote'));
    local = await openContentStore(join(work, 'local'));
    // Two layers of different files: neither blob can be made from the other's.
    const made = await Promise.all([
      compressLayer(() => layerTar(busyboxEntries), 'gzip', { store: remote }),
      compressLayer(() => layerTar(busyboxEntries.slice(0, 2)), 'zstd', { store: remote }),
    ]);
    [gzip, zstd] = made.map(({ blob, diffId }) => ({ blob, diffId, created: '2026-01-02T03:04:05Z' })) as [LazyLayer, LazyLayer];
    chain = {
      layers: [gzip],
      async fetch(layer) {
        if (await local.has(layer.blob.digest)) return;
        fetched.push(layer.blob.digest);
        await local.writeBlob(await remote.reader(layer.blob.digest), { digest: layer.blob.digest, size: layer.blob.size });
      },
      unpack: () => Promise.reject(new Error('no output here needs files')),
    };
  });

  const format = (f: Partial<LayerFormat>): LayerFormat => ({ compression: 'gzip', ociMediaTypes: true, ...f });

  it('takes the blob as it is, unread, when the format takes it (as exportLayer takes a pulled blob)', async () => {
    for (const f of [format({}), format({ force: true }), format({ compression: 'zstd' }), format({ compression: 'uncompressed', ociMediaTypes: false })]) {
      expect(await lazyLayerBlob(local, chain, gzip, f)).toEqual({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: gzip.blob.digest, size: gzip.blob.size });
    }
    expect(fetched).toEqual([]);
    expect(await local.has(gzip.blob.digest)).toBe(false);
  });

  it('fetches the blob and compresses the layer again when the format forces its own, or cannot name the blob', async () => {
    const zstdChain: LazyChain = { ...chain, layers: [zstd] };
    const forced = await lazyLayerBlob(local, chain, gzip, format({ compression: 'zstd', force: true }));
    expect(forced.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(await diffIdOf(local, forced)).toBe(gzip.diffId);
    // Docker media types cannot name a zstd blob: made gzip, from the fetched blob.
    const named = await lazyLayerBlob(local, zstdChain, zstd, format({ ociMediaTypes: false }));
    expect(named.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(await diffIdOf(local, named)).toBe(zstd.diffId);
    expect(fetched).toEqual([gzip.blob.digest, zstd.blob.digest]);
  });

  it('reads a lazy blob through the content store, fetched the first time only', async () => {
    const store = await openContentStore(join(work, 'reader'));
    const fresh: string[] = [];
    const lazy: LazyChain = {
      layers: [gzip],
      async fetch(layer) {
        if (await store.has(layer.blob.digest)) return;
        fresh.push(layer.blob.digest);
        await store.writeBlob(await remote.reader(layer.blob.digest), { digest: layer.blob.digest, size: layer.blob.size });
      },
      unpack: () => Promise.reject(new Error('no output here needs files')),
    };
    const provider = fetchingProvider(store, [lazy]);
    expect(await provider.has(gzip.blob.digest)).toBe(true);
    expect(fresh).toEqual([]);
    expect(sha256Of(await buffer(await provider.reader(gzip.blob.digest)))).toBe(gzip.blob.digest);
    expect((await provider.info(gzip.blob.digest)).size).toBe(gzip.blob.size);
    expect(fresh).toEqual([gzip.blob.digest]);
    // A blob of no lazy chain is the store's own business: absent is absent.
    expect(await provider.has(zstd.blob.digest)).toBe(false);
  });
});
