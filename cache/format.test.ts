import { describe, expect, it } from 'vitest';
import { buildErrorText as problem } from '../errors/testing.js';
import { MediaType, type Digest } from '../oci/index.js';
import { sha256Of } from '../content/index.js';
import { CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, encodeCache, isCacheIndex, parseCacheConfig, parseCacheManifest, parseCacheMounts, cacheMountKey, type CacheLayer } from './format.js';

const d = (s: string) => sha256Of(s);
const layer = (name: string, size = 10): CacheLayer => ({ blob: { mediaType: MediaType.ociLayerGzip, digest: d(`blob ${name}`), size }, diffId: d(`tar ${name}`) });
const base = layer('base', 100);
const run = layer('run', 20);
const copy = layer('copy', 5);

const decode = (bytes: { manifest: Buffer; config: Buffer }) => {
  const m = parseCacheManifest(bytes.manifest, 'test');
  return parseCacheConfig(bytes.config, m.layers, 'test');
};

describe('the cache wire format', () => {
  it('is an OCI manifest with its artifactType, its config the records, its layers the blobs, each once', () => {
    const keys = [d('k3'), d('k1'), d('k2'), d('k0')];
    const enc = encodeCache([
      { key: keys[0]!, chain: [base, run, copy] },
      { key: keys[1]!, chain: [base] },
      { key: keys[2]!, chain: [base, run] },
      { key: keys[3]!, chain: [] },
    ]);
    const manifest = JSON.parse(enc.manifest.bytes.toString()) as Record<string, unknown>;
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: CACHE_ARTIFACT_TYPE,
      config: { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: enc.config.descriptor.digest, size: enc.config.bytes.length },
      layers: expect.any(Array),
    });
    expect(enc.manifest.descriptor).toEqual({ mediaType: MediaType.ociManifest, digest: sha256Of(enc.manifest.bytes), size: enc.manifest.bytes.length });
    expect(new Set(enc.layers.map((l) => l.digest))).toEqual(new Set([base, run, copy].map((l) => l.blob.digest)));
    expect(enc.layers).toHaveLength(3);
    const records = decode({ manifest: enc.manifest.bytes, config: enc.config.bytes });
    expect(records.get(keys[0]!)).toEqual([base, run, copy]);
    expect(records.get(keys[1]!)).toEqual([base]);
    expect(records.get(keys[2]!)).toEqual([base, run]);
    expect(records.get(keys[3]!)).toEqual([]);
    expect(records.size).toBe(4);
  });

  it('gives the same bytes for the same records in any order', () => {
    const a = encodeCache([{ key: d('x'), chain: [base, run] }, { key: d('y'), chain: [base] }]);
    const b = encodeCache([{ key: d('y'), chain: [base] }, { key: d('x'), chain: [base, run] }]);
    expect(b.manifest.bytes.equals(a.manifest.bytes)).toBe(true);
    expect(b.config.bytes.equals(a.config.bytes)).toBe(true);
  });

  it('writes and reads the index forms of image-manifest=false: an OCI index with the artifactType, a Docker manifest list told by its config', () => {
    const records = [{ key: d('x'), chain: [base, run] }];
    const plain = encodeCache(records);
    for (const form of ['oci-index', 'docker-list'] as const) {
      const enc = encodeCache(records, [], form);
      const top = JSON.parse(enc.manifest.bytes.toString()) as Record<string, unknown>;
      expect(top['mediaType']).toBe(form === 'oci-index' ? MediaType.ociIndex : MediaType.dockerManifestList);
      expect(top['artifactType']).toBe(form === 'oci-index' ? CACHE_ARTIFACT_TYPE : undefined);
      expect(enc.manifest.descriptor.mediaType).toBe(top['mediaType']);
      // The same config and layers as the manifest form: only the top blob differs.
      expect(enc.config.bytes.equals(plain.config.bytes)).toBe(true);
      expect(isCacheIndex(enc.manifest.bytes)).toBe(true);
      const parsed = parseCacheManifest(enc.manifest.bytes, 'c');
      expect(parsed).toEqual({ config: plain.config.descriptor, layers: plain.layers });
      expect(parseCacheConfig(enc.config.bytes, parsed.layers, 'c').get(d('x'))).toEqual([base, run]);
    }
    expect(isCacheIndex(plain.manifest.bytes)).toBe(false);
    // An image index is not a cache index.
    expect(isCacheIndex(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] })))).toBe(false);
    const index = JSON.parse(encodeCache(records, [], 'oci-index').manifest.bytes.toString()) as Record<string, unknown>;
    const noConfig = { ...index, manifests: (index['manifests'] as Record<string, unknown>[]).slice(0, -1) };
    expect(problem(() => parseCacheManifest(Buffer.from(JSON.stringify(noConfig)), 'c'))).toMatch(/its index lists 0 configs of type application\/vnd.tsbuild.cache.config.v1\+json, not one$/);
    expect(problem(() => parseCacheManifest(Buffer.from(JSON.stringify({ ...index, artifactType: 'x' })), 'c'))).toMatch(/its artifactType is "x"/);
  });

  it('refuses manifests and configs that are not a tsbuild cache, saying why', () => {
    const enc = encodeCache([{ key: d('x'), chain: [base, run] }]);
    const manifest = JSON.parse(enc.manifest.bytes.toString()) as Record<string, unknown>;
    const edit = (change: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...manifest, ...change }));
    expect(problem(() => parseCacheManifest(Buffer.from('{'), 'local:/c'))).toBe('CACHE_IMPORT: the cache at local:/c is not a tsbuild cache: its manifest is not JSON');
    // BuildKit's cache manifests (and images) have another artifact type or none.
    expect(problem(() => parseCacheManifest(edit({ artifactType: undefined }), 'c'))).toBe(
      `CACHE_IMPORT: the cache at c is not a tsbuild cache: its artifactType is null, not ${CACHE_ARTIFACT_TYPE}`,
    );
    expect(problem(() => parseCacheManifest(edit({ mediaType: MediaType.dockerManifest }), 'c'))).toBe('CACHE_IMPORT: the cache at c is not a tsbuild cache: its manifest is not an OCI image manifest or a cache index');
    expect(problem(() => parseCacheManifest(edit({ config: { ...enc.config.descriptor, mediaType: MediaType.ociConfig } }), 'c'))).toMatch(/its config is application\/vnd.oci.image.config/);
    expect(problem(() => parseCacheManifest(edit({ layers: [{ ...base.blob, mediaType: 'text/plain' }] }), 'c'))).toMatch(/layer 0 has media type text\/plain/);
    expect(problem(() => parseCacheManifest(edit({ layers: [{ ...base.blob, size: -1 }] }), 'c'))).toMatch(/layer 0 has no valid size/);

    const layers = parseCacheManifest(enc.manifest.bytes, 'c').layers;
    const config = JSON.parse(enc.config.bytes.toString()) as { diffIds: string[]; records: { key: string; layers: number[] }[] };
    const cfg = (change: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...config, ...change }));
    expect(problem(() => parseCacheConfig(cfg({ diffIds: config.diffIds.slice(1) }), layers, 'c'))).toMatch(/lists 1 diff ids for 2 layers/);
    expect(problem(() => parseCacheConfig(cfg({ records: [{ key: config.records[0]!.key, layers: [0, 2] }] }), layers, 'c'))).toMatch(/names layer 2$/);
    expect(problem(() => parseCacheConfig(cfg({ records: [{ key: 'k', layers: [] }] }), layers, 'c'))).toMatch(/a record has no key and layers/);
    expect(problem(() => parseCacheConfig(cfg({ diffIds: ['x', config.diffIds[1]] }), layers, 'c'))).toMatch(/diff id 0 is not a digest/);
  });

  it('carries the time each layer was made, when known', () => {
    const made = { ...run, created: '2026-01-02T03:04:05.123Z' };
    const enc = encodeCache([{ key: d('x'), chain: [base, made] }]);
    expect(decode({ manifest: enc.manifest.bytes, config: enc.config.bytes }).get(d('x'))).toEqual([base, made]);
    const config = JSON.parse(enc.config.bytes.toString()) as Record<string, unknown>;
    expect(config['created']).toEqual([null, '2026-01-02T03:04:05.123Z']);
    const layers = parseCacheManifest(enc.manifest.bytes, 'c').layers;
    expect(problem(() => parseCacheConfig(Buffer.from(JSON.stringify({ ...config, created: [null, 'yesterday'] })), layers, 'c'))).toMatch(/the creation time of layer 1 is not a time/);
    expect(problem(() => parseCacheConfig(Buffer.from(JSON.stringify({ ...config, created: [null] })), layers, 'c'))).toMatch(/creation times that do not match its 2 layers/);
  });

  it('keeps a blob to one diff id', () => {
    expect(() => encodeCache([{ key: d('x'), chain: [base] }, { key: d('y'), chain: [{ ...base, diffId: d('other') as Digest }] }])).toThrow(/two diff ids/);
  });

  it('carries an optional explanation per record, and parses records without one (older caches)', () => {
    const explain = {
      step: 'stage-1: COPY app.txt /',
      fields: { dest: '/', 'env:V': '1' },
      files: { count: 1, sum: '0123456789abcdef', paths: { 'app.txt': 'fedcba9876543210' } },
      inputs: ['00112233aabbccdd'],
    };
    const enc = encodeCache([{ key: d('x'), chain: [base], explain }, { key: d('y'), chain: [base, run] }]);
    const records = decode({ manifest: enc.manifest.bytes, config: enc.config.bytes });
    expect(records.get(d('x'))).toEqual([base]);
    expect(records.explanations.get(d('x'))).toEqual(explain);
    expect(records.explanations.has(d('y'))).toBe(false);
    // Without any explanation the bytes are those of the format before it.
    const plain = encodeCache([{ key: d('y'), chain: [base, run] }]);
    expect(JSON.parse(plain.config.bytes.toString())).not.toHaveProperty('records.0.explain');
    const layers = parseCacheManifest(enc.manifest.bytes, 'c').layers;
    const config = JSON.parse(enc.config.bytes.toString()) as { records: Record<string, unknown>[] };
    const broken = { ...config, records: config.records.map((r) => (r['explain'] === undefined ? r : { ...r, explain: { ...explain, inputs: [1] } })) };
    expect(problem(() => parseCacheConfig(Buffer.from(JSON.stringify(broken)), layers, 'c'))).toMatch(/has an explanation that does not parse$/);
  });

  it('lists cache mount archives by id after the records\' layers; a cache without them is as it was', () => {
    const records = [{ key: d('x'), chain: [base, run] }];
    const plain = encodeCache(records);
    expect(encodeCache(records, []).config.bytes.equals(plain.config.bytes)).toBe(true);
    expect(JSON.parse(plain.config.bytes.toString())).not.toHaveProperty('mounts');
    expect(parseCacheMounts(plain.config.bytes, parseCacheManifest(plain.manifest.bytes, 'c').layers, 'c').size).toBe(0);

    const apt = layer('apt cache', 300);
    // An empty cache directory and an empty layer are the same tar: listed once.
    const enc = encodeCache(records, [{ id: 'pip', layer: run }, { id: '/var/cache/apt', layer: apt }]);
    const layers = parseCacheManifest(enc.manifest.bytes, 'c').layers;
    expect(layers.map((l) => l.digest)).toEqual([base.blob.digest, run.blob.digest, apt.blob.digest]);
    expect(JSON.parse(enc.config.bytes.toString())).toMatchObject({ mounts: [{ id: '/var/cache/apt', layer: 2 }, { id: 'pip', layer: 1 }] });
    // The records read as before (an older reader ignores the extra layer).
    expect(parseCacheConfig(enc.config.bytes, layers, 'c').get(d('x'))).toEqual([base, run]);
    expect(parseCacheMounts(enc.config.bytes, layers, 'c')).toEqual(new Map([['/var/cache/apt', { id: '/var/cache/apt', layer: apt }], ['pip', { id: 'pip', layer: run }]]));
  });

  it('tells a seeded cache mount\'s archives apart by their seed', () => {
    const seedA = { chainId: d('chain a'), path: '/src' };
    const seedB = { chainId: 'scratch', path: '/' };
    const one = layer('one');
    const two = layer('two');
    const enc = encodeCache([], [{ id: 'go', seed: seedA, layer: one }, { id: 'go', seed: seedB, layer: two }, { id: 'go', layer: run }]);
    const mounts = parseCacheMounts(enc.config.bytes, parseCacheManifest(enc.manifest.bytes, 'c').layers, 'c');
    expect(mounts.get(cacheMountKey('go', seedA))).toEqual({ id: 'go', seed: seedA, layer: one });
    expect(mounts.get(cacheMountKey('go', seedB))).toEqual({ id: 'go', seed: seedB, layer: two });
    expect(mounts.get(cacheMountKey('go'))).toEqual({ id: 'go', layer: run });
    expect(mounts.size).toBe(3);
  });

  it('refuses cache mount entries that do not parse', () => {
    const enc = encodeCache([{ key: d('x'), chain: [base] }], [{ id: 'a', layer: run }]);
    const layers = parseCacheManifest(enc.manifest.bytes, 'c').layers;
    const config = JSON.parse(enc.config.bytes.toString()) as Record<string, unknown>;
    const cfg = (mounts: unknown) => Buffer.from(JSON.stringify({ ...config, mounts }));
    expect(problem(() => parseCacheMounts(cfg({ id: 'a' }), layers, 'c'))).toBe('CACHE_IMPORT: the cache at c is not a tsbuild cache: its cache mounts are not a list');
    expect(problem(() => parseCacheMounts(cfg([{ id: '', layer: 1 }]), layers, 'c'))).toMatch(/a cache mount has no id$/);
    expect(problem(() => parseCacheMounts(cfg([{ id: 'a', layer: 2 }]), layers, 'c'))).toMatch(/cache mount "a" names layer 2$/);
    expect(problem(() => parseCacheMounts(cfg([{ id: 'a', layer: 1 }, { id: 'a', layer: 0 }]), layers, 'c'))).toMatch(/cache mount "a" is listed twice$/);
    expect(problem(() => parseCacheMounts(cfg([{ id: 'a', layer: 1, seed: { chainId: 'x', path: '/' } }]), layers, 'c'))).toMatch(/the seed of cache mount "a" is not a chain id and a path$/);
  });
});
