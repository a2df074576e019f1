// Non-distributable ("foreign") layers: their media types, manifests that keep their urls, the
// layer memo that keeps their descriptor, and OCI layouts that hold their blob only when present.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openContentStore, sha256Of, type ContentStore, type Descriptor } from '../content/index.js';
import { assembleImage, compressLayer, exportLayer, isExporterError, manifestObject, writeOciLayout } from './index.js';
import { readImageBlobs, rememberLayerBlob } from '../images/index.js';
import { convertLayerMediaType, isNondistributable, layerCompression, MediaType, nondistributableMediaType } from '../oci/index.js';
import { busyboxEntries, layerTar } from './testing.js';

const ND = MediaType.ociNondistributable;
const ND_GZIP = MediaType.ociNondistributableGzip;
const ND_ZSTD = MediaType.ociNondistributableZstd;
const FOREIGN = MediaType.dockerForeignLayer;
const FOREIGN_GZIP = MediaType.dockerForeignLayerGzip;

describe('non-distributable media types', () => {
  it('have the compression their suffix names', () => {
    expect(layerCompression(ND)).toBe('uncompressed');
    expect(layerCompression(ND_GZIP)).toBe('gzip');
    expect(layerCompression(ND_ZSTD)).toBe('zstd');
    expect(layerCompression(FOREIGN)).toBe('uncompressed');
    expect(layerCompression(FOREIGN_GZIP)).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+bzip2')).toBeUndefined();
  });

  it('are told apart from distributable ones', () => {
    for (const t of [ND, ND_GZIP, ND_ZSTD, FOREIGN, FOREIGN_GZIP]) expect(isNondistributable(t), t).toBe(true);
    for (const t of [MediaType.ociLayer, MediaType.ociLayerGzip, MediaType.ociLayerZstd, MediaType.dockerLayer, MediaType.dockerLayerGzip, MediaType.ociConfig]) {
      expect(isNondistributable(t), t).toBe(false);
    }
  });

  it('map between OCI and Docker as skopeo maps them; zstd has no Docker name', () => {
    expect(nondistributableMediaType('gzip', false)).toBe(FOREIGN_GZIP);
    expect(nondistributableMediaType('uncompressed', false)).toBe(FOREIGN);
    expect(nondistributableMediaType('zstd', false)).toBeUndefined();
    expect(convertLayerMediaType(ND_GZIP, false)).toBe(FOREIGN_GZIP);
    expect(convertLayerMediaType(FOREIGN_GZIP, true)).toBe(ND_GZIP);
    expect(convertLayerMediaType(ND, false)).toBe(FOREIGN);
    expect(convertLayerMediaType(FOREIGN, true)).toBe(ND);
    expect(convertLayerMediaType(ND_ZSTD, true)).toBe(ND_ZSTD);
    expect(convertLayerMediaType(ND_ZSTD, false)).toBeUndefined();
    // Distributable types stay distributable.
    expect(convertLayerMediaType(MediaType.ociLayerGzip, false)).toBe(MediaType.dockerLayerGzip);
    expect(convertLayerMediaType(MediaType.ociConfig, true)).toBeUndefined();
  });
});

const config: Descriptor = { mediaType: MediaType.ociConfig, digest: sha256Of(Buffer.from('{}')), size: 2 };
const foreignLayer: Descriptor = {
  mediaType: ND_GZIP,
  digest: sha256Of(Buffer.from('not really a layer')),
  size: 18,
  urls: ['https://example.com/layer.tar.gz', 'http://mirror.example.com/layer.tar.gz'],
  annotations: { 'org.example.licence': 'restricted', 'a.first': '1' },
};

describe('manifests with a non-distributable layer', () => {
  it('keep its urls and annotations, in either flavour', () => {
    const oci = manifestObject({ config, layers: [foreignLayer] });
    expect(oci['layers']).toEqual([
      {
        mediaType: ND_GZIP,
        digest: foreignLayer.digest,
        size: 18,
        urls: foreignLayer.urls,
        annotations: { 'a.first': '1', 'org.example.licence': 'restricted' },
      },
    ]);
    const docker = manifestObject({ config, layers: [foreignLayer], ociMediaTypes: false });
    expect((docker['layers'] as { mediaType: string; urls: string[] }[])[0]).toMatchObject({ mediaType: FOREIGN_GZIP, urls: foreignLayer.urls });
  });

  it('refuse a zstd one under Docker media types, naming it', () => {
    let caught: unknown;
    try {
      manifestObject({ config, layers: [{ ...foreignLayer, mediaType: ND_ZSTD }], ociMediaTypes: false });
    } catch (e) {
      caught = e;
    }
    expect(isExporterError(caught, 'NOT_SUPPORTED')).toBe(true);
    expect((caught as Error).message).toContain(`non-distributable zstd layers (${ND_ZSTD})`);
  });
});

let dir: string;
let store: ContentStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-foreign-'));
  store = await openContentStore(join(dir, 'content'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real gzip layer in the store, and its descriptor made non-distributable. */
async function foreignBusyboxLayer() {
  const made = await compressLayer(() => layerTar(busyboxEntries), 'gzip', { store });
  const blob: Descriptor = { ...made.blob, mediaType: ND_GZIP, urls: ['http://127.0.0.1:9/busybox.tar.gz'] };
  return { diffId: made.diffId, blob };
}

describe('a pulled non-distributable layer', () => {
  it('is exported with its descriptor, even with force-compression and when its blob is gone', async () => {
    const { diffId, blob } = await foreignBusyboxLayer();
    await rememberLayerBlob(store, diffId, 'gzip', blob);
    const never = () => {
      throw new Error('a non-distributable layer is never made again');
    };
    for (const format of [
      { compression: 'gzip', ociMediaTypes: true },
      { compression: 'zstd', ociMediaTypes: true, force: true },
      { compression: 'uncompressed', ociMediaTypes: false },
    ] as const) {
      expect((await exportLayer(store, diffId, format, never)).blob, format.compression).toEqual(blob);
    }
    await store.delete(blob.digest);
    expect((await exportLayer(store, diffId, { compression: 'gzip', ociMediaTypes: true }, never)).blob).toEqual(blob);
  });

  it('goes into an OCI layout only when its blob is here; the manifest names it either way', async () => {
    const { diffId, blob } = await foreignBusyboxLayer();
    const image = await assembleImage(store, { layers: [{ diffId, blob }], platform: { os: 'linux', architecture: 'amd64' }, config: {}, history: [{ created_by: 'base' }] });
    // Read back from the manifest blob: the urls survive parsing.
    const read = await readImageBlobs(store, image.manifest);
    expect(read.layers).toEqual([blob]);

    const withBlob = join(dir, 'with');
    await writeOciLayout({ dest: withBlob, tar: false }, { provider: store, image: read, names: ['foreign:1'] });
    const hex = blob.digest.slice('sha256:'.length);
    expect(await readdir(join(withBlob, 'blobs', 'sha256'))).toContain(hex);

    await store.delete(blob.digest);
    const without = join(dir, 'without');
    await writeOciLayout({ dest: without, tar: false }, { provider: store, image: read, names: ['foreign:1'] });
    const blobs = await readdir(join(without, 'blobs', 'sha256'));
    expect(blobs).not.toContain(hex);
    expect(blobs.sort()).toEqual([image.config.digest, image.manifest.digest].map((d) => d.slice('sha256:'.length)).sort());
    const manifest = JSON.parse(await readFile(join(without, 'blobs', 'sha256', image.manifest.digest.slice('sha256:'.length)), 'utf8')) as { layers: Descriptor[] };
    expect(manifest.layers).toEqual([blob]);
  });
});
