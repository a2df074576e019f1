import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContentStore, sha256Of, type ContentStore } from '../content/index.js';
import { BuildError } from '../errors/index.js';
import { digestHex, MediaType } from '../oci/index.js';
import { encodeCache, type CacheLayer } from './format.js';
import { openLocalCache, writeLocalCache, type CacheSource } from './local.js';

let work: string;
let content: ContentStore;

async function layer(name: string): Promise<CacheLayer> {
  const bytes = Buffer.from(`compressed bytes of ${name}`);
  const info = await content.writeBlob(bytes);
  return { blob: { mediaType: MediaType.ociLayerGzip, digest: info.digest, size: info.size }, diffId: sha256Of(`tar ${name}`) };
}

const key = (s: string) => sha256Of(`key ${s}`);
const blobs = (dir: string) => readdirSync(join(dir, 'blobs', 'sha256')).sort();
const opened = async (src: string, options = {}): Promise<CacheSource> => {
  const c = await openLocalCache(src, options);
  if ('missing' in c) throw new Error(c.missing);
  return c;
};
const failure = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof BuildError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
};

describe('type=local cache layouts', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-local-'));
    content = await openContentStore(join(work, 'content'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes an OCI layout that reads back: records at once, layer blobs on demand', async () => {
    const [a, b] = [await layer('a'), await layer('b')];
    const dest = join(work, 'one');
    const enc = encodeCache([{ key: key('1'), chain: [a] }, { key: key('2'), chain: [a, b] }]);
    await writeLocalCache(dest, enc, content);
    expect(readFileSync(join(dest, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
    const index = JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')) as { manifests: Record<string, unknown>[] };
    expect(index.manifests).toEqual([
      {
        mediaType: MediaType.ociManifest,
        artifactType: 'application/vnd.tsbuild.cache.v1',
        digest: enc.manifest.descriptor.digest,
        size: enc.manifest.descriptor.size,
        annotations: { 'org.opencontainers.image.ref.name': 'latest' },
      },
    ]);
    expect(blobs(dest)).toEqual([a, b].map((l) => digestHex(l.blob.digest)).concat(digestHex(enc.config.descriptor.digest), digestHex(enc.manifest.descriptor.digest)).sort());
    const c = await opened(dest);
    expect(c.where).toBe(`local:${dest}`);
    expect(c.records.get(key('2'))).toEqual([a, b]);
    expect(await text(await c.open(b.blob))).toBe('compressed bytes of b');
    // By the manifest's digest instead of the tag.
    expect((await opened(dest, { digest: enc.manifest.descriptor.digest })).records.size).toBe(2);
  });

  it('writes the index form of image-manifest=false under its tag, with the index media type, and reads it back', async () => {
    const [a, b] = [await layer('ia'), await layer('ib')];
    const dest = join(work, 'index-form');
    const enc = encodeCache([{ key: key('i'), chain: [a, b] }], [], 'oci-index');
    await writeLocalCache(dest, enc, content);
    const index = JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')) as { manifests: Record<string, unknown>[] };
    expect(index.manifests).toMatchObject([{ mediaType: MediaType.ociIndex, digest: enc.manifest.descriptor.digest }]);
    expect(blobs(dest)).toContain(digestHex(a.blob.digest));
    expect((await opened(dest)).records.get(key('i'))).toEqual([a, b]);
    expect((await opened(dest, { digest: enc.manifest.descriptor.digest })).records.size).toBe(1);
  });

  it('replaces the cache under its tag whole (old blobs gone), keeping other tags with their blobs', async () => {
    const [a, b, c] = [await layer('ra'), await layer('rb'), await layer('rc')];
    const dest = join(work, 'replace');
    const main = encodeCache([{ key: key('m'), chain: [a] }]);
    await writeLocalCache(dest, main, content, { tag: 'main' });
    const first = encodeCache([{ key: key('x'), chain: [a, b] }]);
    await writeLocalCache(dest, first, content);
    const second = encodeCache([{ key: key('y'), chain: [c] }]);
    await writeLocalCache(dest, second, content);
    expect(blobs(dest)).toEqual(
      [a.blob.digest, c.blob.digest, main.config.descriptor.digest, main.manifest.descriptor.digest, second.config.descriptor.digest, second.manifest.descriptor.digest]
        .map(digestHex)
        .sort(),
    );
    expect([...(await opened(dest)).records.keys()]).toEqual([key('y')]);
    expect([...(await opened(dest, { tag: 'main' })).records.keys()]).toEqual([key('m')]);
    // Nothing left beside it.
    expect(readdirSync(work).filter((n) => n.startsWith('.replace'))).toEqual([]);
  });

  it('leaves the old cache as it was when an export fails, and nothing beside it', async () => {
    const a = await layer('fa');
    const dest = join(work, 'fail');
    const good = encodeCache([{ key: key('good'), chain: [a] }]);
    await writeLocalCache(dest, good, content);
    const before = blobs(dest);
    const absent: CacheLayer = { blob: { mediaType: MediaType.ociLayerGzip, digest: sha256Of('never stored'), size: 3 }, diffId: sha256Of('t') };
    await expect(writeLocalCache(dest, encodeCache([{ key: key('bad'), chain: [absent] }]), content)).rejects.toThrow();
    expect(blobs(dest)).toEqual(before);
    expect([...(await opened(dest)).records.keys()]).toEqual([key('good')]);
    expect(readdirSync(work).filter((n) => n.startsWith('.fail'))).toEqual([]);
  });

  it('never replaces a directory of the user that is not a layout', async () => {
    const dest = join(work, 'users');
    mkdirSync(dest);
    writeFileSync(join(dest, 'notes.txt'), 'mine');
    expect(await failure(writeLocalCache(dest, encodeCache([]), content))).toBe(
      `CACHE_EXPORT: cannot export the cache to ${dest}: the directory is not empty and not an OCI layout`,
    );
    expect(readFileSync(join(dest, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('reports a cache that is not there as missing (a warning), one that is broken as an error', async () => {
    expect(await openLocalCache(join(work, 'nowhere'))).toEqual({ missing: `local cache import at ${join(work, 'nowhere')} not found: it has no index.json` });
    const a = await layer('ma');
    const dest = join(work, 'broken');
    const enc = encodeCache([{ key: key('k'), chain: [a] }]);
    await writeLocalCache(dest, enc, content);
    expect(await openLocalCache(dest, { tag: 'other' })).toEqual({ missing: `local cache import at ${dest} skipped: no digest found for tag other` });
    writeFileSync(join(dest, 'blobs', 'sha256', digestHex(enc.config.descriptor.digest)), '{"diffIds":[],"records":[]}');
    expect(await failure(openLocalCache(dest))).toBe(`CACHE_IMPORT: the cache at local:${dest} has a corrupt blob ${enc.config.descriptor.digest}`);
    rmSync(join(dest, 'blobs', 'sha256', digestHex(enc.config.descriptor.digest)));
    expect(await failure(openLocalCache(dest))).toBe(`CACHE_IMPORT: the cache at local:${dest} lacks blob ${enc.config.descriptor.digest}: no such file`);
    expect(existsSync(join(dest, 'index.json'))).toBe(true);
  });
});
