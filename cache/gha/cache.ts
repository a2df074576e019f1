/**
 * `type=gha`: the cache in the GitHub Actions cache service. Entries there are immutable, so
 * an export never overwrites anything:
 * - each layer blob of 512 KiB or more is its own entry keyed by its digest (`tsbuild-blob-<hex>`),
 *   skipped when the service has it; the smaller ones go together into one pack entry per
 *   export (pack.ts), and the index says where each lies. A key the service says exists but
 *   cannot hand out (reserved by an export that died before finalizing it, or is still
 *   uploading) would never become readable for this export: the blob then goes under a key of
 *   this export's own (`tsbuild-blob-<hex>-<random>`), which the index names;
 * - the manifest and its config travel together in one index entry per export, keyed
 *   `tsbuild-index:<scope>:<time>-<random>`; an import asks for the key prefix
 *   `tsbuild-index:<scope>:`, which the service answers with the newest such entry.
 * Two exports at once each write their own index entry and share blob entries: no race on a
 * mutable key. Everything an import reads is checked (manifest, config and layers by digest).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { sha256Of } from '../../content/index.js';
import { BuildError } from '../../errors/index.js';
import { digestHex, type Descriptor, type Digest } from '../../oci/index.js';
import { parseCacheConfig, parseCacheManifest, parseCacheMounts, type EncodedCache } from '../format.js';
import type { CacheSource } from '../local.js';
import type { CacheWriter, PutOutcome } from '../writer.js';
import { GhaClient } from './client.js';
import { blobInPack, buildPack, checkPack, PACK_THRESHOLD, packOnly, parsePacks, type Pack } from './pack.js';

/** The entry version of every tsbuild cache entry: the wire format's, so other caches never match. */
export const GHA_VERSION = sha256Of(Buffer.from('tsbuild cache v1')).slice('sha256:'.length);
const MAX_INDEX = 64 * 1024 * 1024;
/** Uploads at once when finish has layers left to put (the build's driver has its own). */
const PARALLEL_UPLOADS = 4;

/** `ACTIONS_CACHE_MODE`: what a job may do with the cache (unset: read and write). */
export type GhaCacheMode = 'none' | 'read' | 'write' | 'write-only';
export const ghaMayRead = (mode: GhaCacheMode | undefined) => mode === undefined || mode === 'read' || mode === 'write';
export const ghaMayWrite = (mode: GhaCacheMode | undefined) => mode === undefined || mode === 'write' || mode === 'write-only';

export interface GhaEndpoint {
  readonly url: string;
  readonly token: string;
  readonly timeoutMs: number;
}

export const blobKey = (digest: Digest) => `tsbuild-blob-${digestHex(digest)}`;
const indexPrefix = (scope: string) => `tsbuild-index:${encodeURIComponent(scope)}:`;

/**
 * The index entry's bytes: the manifest and config, base64, in one small JSON document, the
 * packs holding the small layers, and the layers stored under a key other than their
 * digest's (fields caches written before them lack).
 */
function encodeIndex(cache: EncodedCache, packs: readonly Pack[] = [], keys: ReadonlyMap<Digest, string> = new Map()): Buffer {
  const inCache = new Set(cache.layers.map((l) => l.digest));
  const named = [...keys].filter(([d]) => inCache.has(d)).sort(([a], [b]) => (a < b ? -1 : 1));
  return Buffer.from(
    JSON.stringify({
      manifest: cache.manifest.bytes.toString('base64'),
      config: cache.config.bytes.toString('base64'),
      ...(packs.length === 0 ? {} : { packs }),
      ...(named.length === 0 ? {} : { keys: Object.fromEntries(named) }),
    }),
  );
}

/** The `keys` field of an index entry: layer digest → the entry key it is stored under. */
function parseKeys(v: unknown, where: string): Map<Digest, string> {
  const out = new Map<Digest, string>();
  if (v === undefined) return out;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache: its index entry's keys are not an object`);
  for (const [digest, key] of Object.entries(v as Record<string, unknown>)) {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest) || typeof key !== 'string' || !key.startsWith(`${blobKey(digest as Digest)}-`)) {
      throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache: its index entry names layer ${digest} by key ${JSON.stringify(key)}`);
    }
    out.set(digest as Digest, key);
  }
  return out;
}

/** What an imported gha cache says about where its layers are, for an export to the same scope. */
interface GhaListing {
  /** Layers that are entries of their own. */
  readonly own: ReadonlySet<Digest>;
  /** The entry key of a layer that is an entry of its own. */
  keyOf(digest: Digest): string;
  /** Layers in a pack, and the pack. */
  readonly packed: ReadonlyMap<Digest, Pack>;
  /** Whether the import looked the entry `key` up and the service no longer had it (evicted). */
  gone(key: string): Promise<boolean>;
}
const listings = new WeakMap<CacheSource, GhaListing>();

export interface GhaExportResult {
  /** Layer blobs uploaded as entries of their own, and the ones the service had already. */
  readonly uploaded: number;
  readonly skipped: number;
  /** Small layer blobs that went in a pack (this export's, or one an import listed). */
  readonly packed: number;
  /** Requests sent, retries included. */
  readonly requests: number;
  /** Set when the token may not write (a pull request's): nothing more was written. */
  readonly denied?: string;
}

/**
 * Where a layer blob's bytes are, asked only when the writer uploads it (alone or in a pack):
 * a blob an imported cache holds is fetched then, so an export to the scope it came from,
 * which has it already, reads none.
 */
export type BlobPath = (digest: Digest) => Promise<string>;

/** Writes `cache` under `scope` at once (see beginGhaCache). A write-denied answer is returned, not thrown. */
export async function writeGhaCache(endpoint: GhaEndpoint, scope: string, cache: EncodedCache, blobPath: BlobPath): Promise<GhaExportResult> {
  const w = ghaWriter(endpoint, scope, blobPath);
  await w.finish(cache);
  return w.result();
}

/**
 * Opens an export to `scope`: a layer put of PACK_THRESHOLD or more is uploaded as its own
 * entry at once; smaller ones wait for `finish`, which uploads them as one pack entry, then the
 * index entry. Layers `listed` (an import of the same scope) names are not probed: its own
 * entries are taken as there, its packs are named again. An aborted export writes no index
 * entry, so no import ever sees it. A write-denied answer stops the export: a warning.
 */
export async function beginGhaCache(endpoint: GhaEndpoint, scope: string, blobPath: BlobPath, listed?: CacheSource): Promise<CacheWriter> {
  const w = ghaWriter(endpoint, scope, blobPath, listed === undefined ? undefined : listings.get(listed));
  return {
    putBlob: (blob) => w.putBlob(blob),
    async finish(cache) {
      await w.finish(cache);
      const r = w.result();
      return {
        status: { id: `requests (${r.uploaded} layers uploaded, ${r.skipped} already there, ${r.packed} packed)`, current: r.requests },
        ...(r.denied === undefined ? {} : { warning: `exporting cache to gha:${scope} skipped: ${r.denied}` }),
      };
    },
    abort: () => w.abort(),
  };
}

function ghaWriter(endpoint: GhaEndpoint, scope: string, blobPath: BlobPath, known?: GhaListing) {
  const client = new GhaClient({ ...endpoint, code: 'CACHE_EXPORT' });
  let uploaded = 0;
  let skipped = 0;
  let packed = 0;
  let denied: string | undefined;
  /** Small blobs for this export's pack, and those an imported pack holds. */
  const small = new Map<Digest, Descriptor>();
  const reused = new Map<Digest, Pack>();
  const puts = new Map<Digest, Promise<PutOutcome>>();
  /** Layers stored (by this export or the one imported) under a key other than their digest's. */
  const keys = new Map<Digest, string>();
  const ownSuffix = `-${randomBytes(6).toString('hex')}`;

  const putOwn = async (blob: Descriptor): Promise<PutOutcome> => {
    if (denied !== undefined) return 'deferred';
    const key = blobKey(blob.digest);
    const r = await client.reserve(key, GHA_VERSION);
    if ('denied' in r) {
      denied = r.denied;
      return 'deferred';
    }
    if ('exists' in r) {
      // The service answers a key with the newest entry it prefixes: the entry itself, or
      // another export's own key for the same blob (same digest, same bytes), serves.
      const there = await client.lookup(key, GHA_VERSION);
      if (there !== undefined && (there.matchedKey === key || there.matchedKey.startsWith(`${key}-`))) {
        if (there.matchedKey !== key) keys.set(blob.digest, there.matchedKey);
        skipped++;
        return 'present';
      }
      // Reserved, never finalized (or not yet): this export stores the blob under its own key.
      return putUnder(`${key}${ownSuffix}`, blob);
    }
    return upload(key, r.uploadUrl, blob);
  };
  const putUnder = async (key: string, blob: Descriptor): Promise<PutOutcome> => {
    const r = await client.reserve(key, GHA_VERSION);
    if ('denied' in r) {
      denied = r.denied;
      return 'deferred';
    }
    if ('exists' in r) throw new BuildError('CACHE_EXPORT', `the cache service already holds the entry ${key}`);
    const stored = await upload(key, r.uploadUrl, blob);
    keys.set(blob.digest, key);
    return stored;
  };
  /** The blob into the entry `key` reserved at `uploadUrl`, finalized. */
  const upload = async (key: string, uploadUrl: string, blob: Descriptor): Promise<PutOutcome> => {
    await client.upload(uploadUrl, await blobPath(blob.digest), blob.size);
    await client.finalize(key, GHA_VERSION, blob.size);
    uploaded++;
    return 'stored';
  };
  const putBlob = (blob: Descriptor): Promise<PutOutcome> => {
    let p = puts.get(blob.digest);
    if (p === undefined) {
      p = putNew(blob);
      puts.set(blob.digest, p);
    }
    return p;
  };
  /** A blob the import listed is taken as there, unless the import found its entry gone. */
  const putNew = async (blob: Descriptor): Promise<PutOutcome> => {
    const pack = known?.packed.get(blob.digest);
    if (pack !== undefined && !(await known!.gone(pack.key))) {
      reused.set(blob.digest, pack);
      return 'present';
    }
    if (known?.own.has(blob.digest) === true && !(await known.gone(known.keyOf(blob.digest)))) {
      const key = known.keyOf(blob.digest);
      if (key !== blobKey(blob.digest)) keys.set(blob.digest, key);
      skipped++;
      return 'present';
    }
    if (blob.size < PACK_THRESHOLD) {
      small.set(blob.digest, blob);
      return 'deferred';
    }
    return putOwn(blob);
  };
  /** Uploads one entry from memory; false when the token may not write. */
  const putEntry = async (key: string, bytes: Buffer, exists: 'ok' | 'fail'): Promise<boolean> => {
    const r = await client.reserve(key, GHA_VERSION);
    if ('denied' in r) {
      denied = r.denied;
      return false;
    }
    if ('exists' in r) {
      if (exists === 'ok') return true;
      throw new BuildError('CACHE_EXPORT', `the cache service already holds the index entry ${key}`);
    }
    await client.uploadBytes(r.uploadUrl, bytes);
    await client.finalize(key, GHA_VERSION, bytes.length);
    return true;
  };

  const finish = async (cache: EncodedCache): Promise<void> => {
    await Promise.allSettled(puts.values());
    for (const p of puts.values()) await p;
    // The layers not put yet, largest first, a few at once.
    const queue = [...new Map(cache.layers.filter((l) => !puts.has(l.digest)).map((l) => [l.digest, l])).values()].sort((a, b) => b.size - a.size);
    const worker = async () => {
      for (let layer = queue.shift(); layer !== undefined && denied === undefined; layer = queue.shift()) await putBlob(layer);
    };
    await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
    if (denied !== undefined) return;
    const inCache = new Set(cache.layers.map((l) => l.digest));
    const packs = new Map<string, Pack>();
    for (const [digest, pack] of reused) if (inCache.has(digest)) packs.set(pack.key, pack);
    const mine = [...small.values()].filter((b) => inCache.has(b.digest));
    if (mine.length > 0) {
      const { pack, bytes } = await buildPack(mine, async (b) => readFile(await blobPath(b.digest)));
      // Content-addressed: the same small blobs made the same pack before, and it is there.
      if (!(await putEntry(pack.key, bytes, 'ok'))) return;
      packs.set(pack.key, pack);
    }
    const used = [...packs.values()].map((p) => packOnly(p, inCache));
    packed = used.reduce((n, p) => n + p.blobs.length, 0);
    const key = `${indexPrefix(scope)}${Date.now().toString(36).padStart(10, '0')}-${randomBytes(6).toString('hex')}`;
    await putEntry(key, encodeIndex(cache, used, keys), 'fail');
  };

  return {
    putBlob,
    finish,
    abort: async () => void (await Promise.allSettled(puts.values())),
    result: (): GhaExportResult => ({ uploaded, skipped, packed, requests: client.requests, ...(denied === undefined ? {} : { denied }) }),
  };
}

async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size > limit) throw new BuildError('CACHE_IMPORT', `${what} is larger than ${limit} bytes: not a tsbuild cache`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A descriptor's bytes out of the index entry, checked against it. */
function indexPart(doc: Record<string, unknown>, name: string, where: string): Buffer {
  const v = doc[name];
  if (typeof v !== 'string') throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache: its index entry has no ${name}`);
  return Buffer.from(v, 'base64');
}

function checked(bytes: Buffer, desc: Descriptor, where: string): Buffer {
  if (bytes.length !== desc.size || sha256Of(bytes) !== desc.digest) throw new BuildError('CACHE_IMPORT', `the cache at ${where} has a corrupt ${desc.mediaType} ${desc.digest}`);
  return bytes;
}

/**
 * The newest cache exported under `scope`. No entry, or an index entry the blob store will not
 * hand out (an expired or revoked URL), comes back as `missing` (a warning: the build runs
 * without it); an entry that is there but broken is refused (CACHE_IMPORT).
 */
export async function openGhaCache(endpoint: GhaEndpoint, scope: string): Promise<CacheSource | { readonly missing: string }> {
  const where = `gha:${scope}`;
  const client = new GhaClient({ ...endpoint, code: 'CACHE_IMPORT' });
  const found = await client.lookup(indexPrefix(scope), GHA_VERSION);
  if (found === undefined) return { missing: `gha cache import of scope ${scope} skipped: no cache exported under it yet` };
  let bytes: Buffer;
  try {
    bytes = await readAll(await client.download(found.url), MAX_INDEX, `the index entry of ${where}`);
  } catch (e) {
    return { missing: `gha cache import of scope ${scope} skipped: ${(e as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache: its index entry ${found.matchedKey} is not JSON`);
  }
  if (typeof doc !== 'object' || doc === null) throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache`);
  const manifestBytes = indexPart(doc as Record<string, unknown>, 'manifest', where);
  const manifest = parseCacheManifest(manifestBytes, where);
  const config = checked(indexPart(doc as Record<string, unknown>, 'config', where), manifest.config, where);
  const records = parseCacheConfig(config, manifest.layers, where);
  const packs = parsePacks((doc as Record<string, unknown>)['packs'], where);
  const keys = parseKeys((doc as Record<string, unknown>)['keys'], where);
  const ownKey = (digest: Digest) => keys.get(digest) ?? blobKey(digest);
  const packOf = new Map<Digest, Pack>();
  for (const pack of packs) for (const b of pack.blobs) packOf.set(b.digest, pack);
  // Each entry (a layer's own, or a pack) is looked up once: its download URL, or undefined
  // when the service lacks it.
  const urls = new Map<string, Promise<string | undefined>>();
  const urlOf = (key: string) => {
    let p = urls.get(key);
    if (p === undefined) {
      p = client.lookup(key, GHA_VERSION).then((hit) => (hit !== undefined && hit.matchedKey === key ? hit.url : undefined));
      urls.set(key, p);
    }
    return p;
  };
  /** An entry's bytes as a stream; a URL that expired since its lookup is looked up afresh, once. */
  const download = async (key: string, what: string): Promise<Readable> => {
    const url = await urlOf(key);
    if (url === undefined) throw new BuildError('CACHE_IMPORT', `the cache at ${where} lacks ${what}`);
    try {
      return await client.download(url);
    } catch (e) {
      urls.delete(key);
      const fresh = await urlOf(key);
      if (fresh === undefined) throw e;
      return client.download(fresh);
    }
  };
  // A pack is downloaded once, whichever of its blobs is needed first, and checked whole.
  const packBytes = new Map<string, Promise<Buffer>>();
  const bytesOf = (pack: Pack) => {
    let p = packBytes.get(pack.key);
    if (p === undefined) {
      p = download(pack.key, `pack ${pack.key}`).then(async (s) => checkPack(pack, await readAll(s, pack.size, `pack ${pack.key} of ${where}`), where));
      // A failed read may be tried again by a later step.
      p.catch(() => packBytes.delete(pack.key));
      packBytes.set(pack.key, p);
    }
    return p;
  };
  const keyOf = (blob: Descriptor) => packOf.get(blob.digest)?.key ?? ownKey(blob.digest);
  const source: CacheSource = {
    where,
    records,
    mounts: parseCacheMounts(config, manifest.layers, where),
    available: async (blob) => (await urlOf(keyOf(blob))) !== undefined,
    async open(blob) {
      const pack = packOf.get(blob.digest);
      if (pack !== undefined) return Readable.from([blobInPack(pack, await bytesOf(pack), blob, where)]);
      // The content store checks the digest and size as it writes the blob.
      return download(ownKey(blob.digest), `layer ${blob.digest}`);
    },
  };
  const own = new Set<Digest>();
  for (const chain of records.values()) for (const l of chain) if (!packOf.has(l.blob.digest)) own.add(l.blob.digest);
  for (const { layer } of source.mounts?.values() ?? []) if (!packOf.has(layer.blob.digest)) own.add(layer.blob.digest);
  // Only a lookup the import made and the service answered with nothing: nothing more is asked.
  const gone = async (key: string) => {
    const looked = urls.get(key);
    return looked !== undefined && (await looked.catch(() => '')) === undefined;
  };
  listings.set(source, { own, keyOf: ownKey, packed: packOf, gone });
  return source;
}
