/**
 * `type=gha`: the cache in the GitHub Actions cache service. Entries there are immutable, so
 * an export never overwrites anything:
 * - each layer blob is its own entry keyed by its digest (`tsbuild-blob-<hex>`), skipped when
 *   the service says it exists;
 * - the manifest and its config travel together in one index entry per export, keyed
 *   `tsbuild-index:<scope>:<time>-<random>`; an import asks for the key prefix
 *   `tsbuild-index:<scope>:`, which the service answers with the newest such entry.
 * Two exports at once each write their own index entry and share blob entries: no race on a
 * mutable key. Everything an import reads is checked (manifest, config and layers by digest).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { sha256Of } from '../../content/index.js';
import { BuildError } from '../../errors/index.js';
import { digestHex, type Descriptor, type Digest } from '../../oci/index.js';
import { parseCacheConfig, parseCacheManifest, parseCacheMounts, type EncodedCache } from '../format.js';
import type { CacheSource } from '../local.js';
import { GhaClient } from './client.js';

/** The entry version of every tsbuild cache entry: the wire format's, so other caches never match. */
export const GHA_VERSION = sha256Of(Buffer.from('tsbuild cache v1')).slice('sha256:'.length);
const MAX_INDEX = 64 * 1024 * 1024;
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

/** The index entry's bytes: the manifest and config, base64, in one small JSON document. */
function encodeIndex(cache: EncodedCache): Buffer {
  return Buffer.from(JSON.stringify({ manifest: cache.manifest.bytes.toString('base64'), config: cache.config.bytes.toString('base64') }));
}

export interface GhaExportResult {
  /** Layer blobs uploaded, and the ones the service had already. */
  readonly uploaded: number;
  readonly skipped: number;
  /** Requests sent, retries included. */
  readonly requests: number;
  /** Set when the token may not write (a pull request's): nothing more was written. */
  readonly denied?: string;
}

/**
 * Writes `cache` under `scope`: the layer blobs (read from `blobPath`) largest first, a few at
 * once, then the index entry. A write-denied answer stops the export and is returned, not thrown.
 */
export async function writeGhaCache(endpoint: GhaEndpoint, scope: string, cache: EncodedCache, blobPath: (digest: Digest) => string): Promise<GhaExportResult> {
  const client = new GhaClient({ ...endpoint, code: 'CACHE_EXPORT' });
  let uploaded = 0;
  let skipped = 0;
  let denied: string | undefined;
  const queue = [...new Map(cache.layers.map((l) => [l.digest, l])).values()].sort((a, b) => b.size - a.size);
  const worker = async () => {
    for (let layer = queue.shift(); layer !== undefined && denied === undefined; layer = queue.shift()) {
      const key = blobKey(layer.digest);
      const r = await client.reserve(key, GHA_VERSION);
      if ('denied' in r) denied = r.denied;
      else if ('exists' in r) skipped++;
      else {
        await client.upload(r.uploadUrl, blobPath(layer.digest), layer.size);
        await client.finalize(key, GHA_VERSION, layer.size);
        uploaded++;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
  if (denied === undefined) {
    const key = `${indexPrefix(scope)}${Date.now().toString(36).padStart(10, '0')}-${randomBytes(6).toString('hex')}`;
    const bytes = encodeIndex(cache);
    const r = await client.reserve(key, GHA_VERSION);
    if ('denied' in r) denied = r.denied;
    else if ('exists' in r) throw new BuildError('CACHE_EXPORT', `the cache service already holds the index entry ${key}`);
    else {
      await client.uploadBytes(r.uploadUrl, bytes);
      await client.finalize(key, GHA_VERSION, bytes.length);
    }
  }
  return { uploaded, skipped, requests: client.requests, ...(denied === undefined ? {} : { denied }) };
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
  // Each layer is looked up once: its download URL, or undefined when the service lacks it.
  const urls = new Map<Digest, Promise<string | undefined>>();
  const urlOf = (digest: Digest) => {
    let p = urls.get(digest);
    if (p === undefined) {
      const key = blobKey(digest);
      p = client.lookup(key, GHA_VERSION).then((hit) => (hit !== undefined && hit.matchedKey === key ? hit.url : undefined));
      urls.set(digest, p);
    }
    return p;
  };
  return {
    where,
    records,
    mounts: parseCacheMounts(config, manifest.layers, where),
    available: async (blob) => (await urlOf(blob.digest)) !== undefined,
    async open(blob) {
      const url = await urlOf(blob.digest);
      if (url === undefined) throw new BuildError('CACHE_IMPORT', `the cache at ${where} lacks layer ${blob.digest}`);
      // The content store checks the digest and size as it writes the blob.
      try {
        return await client.download(url);
      } catch (e) {
        // A URL looked up earlier in a long build may have expired: one fresh lookup, once.
        urls.delete(blob.digest);
        const fresh = await urlOf(blob.digest);
        if (fresh === undefined) throw e;
        return client.download(fresh);
      }
    },
  };
}
