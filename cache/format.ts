/**
 * The cache's wire format, the same for every backend: an OCI image manifest with tsbuild's
 * own `artifactType`, whose config blob (JSON) lists the records — a step's cache key → its
 * result's layer chain, bottom first — and whose layers are the compressed layer blobs the
 * images use. A record's chain names layers by their index in the manifest, so chains that
 * share a prefix (every step of a stage) share its blobs. Everything is checked when read:
 * a cache that does not parse is refused whole, never half used.
 */
import { BuildError } from '../errors/index.js';
import { goJsonBytes, isDigest, layerCompression, MediaType, type Descriptor, type Digest } from '../oci/index.js';
import { sha256Of } from '../content/index.js';
import { parseExplanation, type StepExplanation } from './explanation.js';

/** What a tsbuild cache manifest is (its `artifactType`). */
export const CACHE_ARTIFACT_TYPE = 'application/vnd.tsbuild.cache.v1';
/** The media type of its config blob: the records. */
export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tsbuild.cache.config.v1+json';

/** One layer of a result: its compressed blob and the digest of its uncompressed tar. */
export interface CacheLayer {
  readonly blob: Descriptor;
  readonly diffId: Digest;
  /**
   * When the step made the layer (ISO 8601): an image rebuilt from the cache gets the same
   * history times, so it is the same image.
   */
  readonly created?: string;
}

/** A step's cache key and its result: the layer chain bottom first (empty: the empty root). */
export interface CacheRecord {
  readonly key: Digest;
  readonly chain: readonly CacheLayer[];
  /** The key in comparable parts (optional: older caches have none), to say why a step missed. */
  readonly explain?: StepExplanation;
}

/** The records of a parsed cache by key, and the explanations they carry by key. */
export class CacheRecords extends Map<Digest, readonly CacheLayer[]> {
  readonly explanations = new Map<Digest, StepExplanation>();
}

/**
 * A `RUN --mount=type=cache` directory's content, exported (`--cache-to …,mounts=`): its id and
 * the archive, a layer blob (the directory as a layer tar, compressed) with its diff id.
 */
export interface CacheMountArchive {
  readonly id: string;
  /** For a cache seeded from= a stage or image: what it started from. */
  readonly seed?: CacheMountSeed;
  readonly layer: CacheLayer;
}

/**
 * What a cache seeded `from=` started from, as any machine tells it: the chain id of the
 * source's layers (`scratch` for none) and the path in it. Another source is another cache.
 */
export interface CacheMountSeed {
  readonly chainId: string;
  readonly path: string;
}

/** How cache mount archives are told apart: the id, and the seed of a seeded one. */
export function cacheMountKey(id: string, seed?: CacheMountSeed): string {
  return seed === undefined ? id : `${id}\0${seed.chainId}\0${seed.path}`;
}

/** A blob of the format, with its bytes. */
export interface EncodedBlob {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
}

/** The manifest and config of a cache, and the layer blobs the manifest lists. */
export interface EncodedCache {
  readonly manifest: EncodedBlob;
  readonly config: EncodedBlob;
  readonly layers: readonly Descriptor[];
}

/** The config blob as JSON: the layers' diff ids and creation times (in manifest order) and the records. */
interface CacheConfigJson {
  readonly diffIds: readonly string[];
  /** null where the time is not known. */
  readonly created: readonly (string | null)[];
  readonly records: readonly { readonly key: string; readonly layers: readonly number[]; readonly explain?: StepExplanation }[];
  /** Cache mount archives (optional: absent when none were exported), each naming its manifest layer. */
  readonly mounts?: readonly { readonly id: string; readonly seed?: CacheMountSeed; readonly layer: number }[];
}

function blob(mediaType: string, value: unknown): EncodedBlob {
  const bytes = goJsonBytes(value);
  return { descriptor: { mediaType, digest: sha256Of(bytes), size: bytes.length }, bytes };
}

/**
 * What the cache's top blob is: an OCI image manifest with the artifactType (the default), or,
 * as BuildKit writes with `image-manifest=false`, an index whose entries are the layers and
 * the config — an OCI index with the artifactType, or with `oci-mediatypes=false` a Docker
 * manifest list, which has no artifactType: its config entry's media type says what it is.
 * Registries that refuse an image manifest whose config is not an image's take an index.
 */
export type CacheForm = 'manifest' | 'oci-index' | 'docker-list';

/**
 * The cache of `records` (one per key; a later one of a key replaces an earlier one). The
 * bytes depend on the records alone: sorted by key, layers in order of first use. Cache mount
 * archives (one per id), when given, are listed after the records' layers, sorted by id.
 */
export function encodeCache(records: Iterable<CacheRecord>, mountArchives: readonly CacheMountArchive[] = [], form: CacheForm = 'manifest'): EncodedCache {
  const byKey = new Map<string, CacheRecord>();
  for (const r of records) byKey.set(r.key, r);
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  const created: (string | null)[] = [];
  const index = new Map<string, number>();
  const out: { key: string; layers: number[]; explain?: StepExplanation }[] = [];
  const indexOf = (l: CacheLayer): number => {
    let i = index.get(l.blob.digest);
    if (i === undefined) {
      i = layers.length;
      index.set(l.blob.digest, i);
      layers.push({ mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size });
      diffIds.push(l.diffId);
      // A blob two steps made alike (a COPY --from of a whole layer) keeps the first time.
      created.push(l.created ?? null);
    } else if (diffIds[i] !== l.diffId) {
      throw new Error(`internal: blob ${l.blob.digest} given with two diff ids`);
    }
    return i;
  };
  for (const key of [...byKey.keys()].sort()) {
    const { chain, explain } = byKey.get(key)!;
    out.push({ key, layers: chain.map(indexOf), ...(explain === undefined ? {} : { explain }) });
  }
  const archiveByKey = new Map(mountArchives.map((m) => [cacheMountKey(m.id, m.seed), m]));
  const mounts = [...archiveByKey.keys()].sort().map((k) => {
    const { id, seed, layer } = archiveByKey.get(k)!;
    return { id, ...(seed === undefined ? {} : { seed: { chainId: seed.chainId, path: seed.path } }), layer: indexOf(layer) };
  });
  // Without mount archives the config is byte for byte what it was before they existed.
  const json: CacheConfigJson = mounts.length === 0 ? { diffIds, created, records: out } : { diffIds, created, records: out, mounts };
  const config = blob(CACHE_CONFIG_MEDIA_TYPE, json);
  const manifest =
    form === 'manifest'
      ? blob(MediaType.ociManifest, { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: CACHE_ARTIFACT_TYPE, config: config.descriptor, layers })
      : form === 'oci-index'
        ? blob(MediaType.ociIndex, { schemaVersion: 2, mediaType: MediaType.ociIndex, artifactType: CACHE_ARTIFACT_TYPE, manifests: [...layers, config.descriptor] })
        : blob(MediaType.dockerManifestList, { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [...layers, config.descriptor] });
  return { manifest, config, layers };
}

function bad(where: string, what: string): BuildError {
  return new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache: ${what}`);
}

function parseJson(bytes: Uint8Array, where: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    throw bad(where, `its ${what} is not JSON`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function descriptorOf(v: unknown, where: string, what: string): Descriptor {
  if (!isObject(v) || typeof v['mediaType'] !== 'string' || typeof v['digest'] !== 'string' || !isDigest(v['digest'])) throw bad(where, `${what} is not a descriptor`);
  const size = v['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(where, `${what} has no valid size`);
  return { mediaType: v['mediaType'], digest: v['digest'], size };
}

/** Whether `bytes` are a cache's top blob in index form (see CacheForm), told apart from an image index. */
export function isCacheIndex(bytes: Uint8Array): boolean {
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return false;
  }
  if (!isObject(m) || !Array.isArray(m['manifests'])) return false;
  if (m['mediaType'] === MediaType.ociIndex) return m['artifactType'] === CACHE_ARTIFACT_TYPE;
  return m['mediaType'] === MediaType.dockerManifestList && m['manifests'].some((d) => isObject(d) && d['mediaType'] === CACHE_CONFIG_MEDIA_TYPE);
}

/** The layers and config an index-form cache lists (see CacheForm). */
function parseCacheIndex(m: Record<string, unknown>, where: string): { readonly config: Descriptor; readonly layers: readonly Descriptor[] } {
  if (m['mediaType'] === MediaType.ociIndex && m['artifactType'] !== CACHE_ARTIFACT_TYPE) {
    throw bad(where, `its artifactType is ${JSON.stringify(m['artifactType'] ?? null)}, not ${CACHE_ARTIFACT_TYPE}`);
  }
  if (!Array.isArray(m['manifests'])) throw bad(where, 'its index lists nothing');
  const entries = m['manifests'].map((e, i) => descriptorOf(e, where, `index entry ${i}`));
  const configs = entries.filter((d) => d.mediaType === CACHE_CONFIG_MEDIA_TYPE);
  if (configs.length !== 1) throw bad(where, `its index lists ${configs.length} configs of type ${CACHE_CONFIG_MEDIA_TYPE}, not one`);
  const layers = entries.filter((d) => d.mediaType !== CACHE_CONFIG_MEDIA_TYPE);
  layers.forEach((d, i) => {
    if (layerCompression(d.mediaType) === undefined) throw bad(where, `layer ${i} has media type ${d.mediaType}`);
  });
  return { config: configs[0]!, layers };
}

/** The manifest of a cache (either form): checked to be one of tsbuild's, its config's descriptor and layers returned. */
export function parseCacheManifest(bytes: Uint8Array, where: string): { readonly config: Descriptor; readonly layers: readonly Descriptor[] } {
  const m = parseJson(bytes, where, 'manifest');
  if (isObject(m) && m['schemaVersion'] === 2 && (m['mediaType'] === MediaType.ociIndex || m['mediaType'] === MediaType.dockerManifestList)) return parseCacheIndex(m, where);
  if (!isObject(m) || m['mediaType'] !== MediaType.ociManifest || m['schemaVersion'] !== 2) throw bad(where, 'its manifest is not an OCI image manifest or a cache index');
  if (m['artifactType'] !== CACHE_ARTIFACT_TYPE) {
    throw bad(where, `its artifactType is ${JSON.stringify(m['artifactType'] ?? null)}, not ${CACHE_ARTIFACT_TYPE}`);
  }
  const config = descriptorOf(m['config'], where, 'the config');
  if (config.mediaType !== CACHE_CONFIG_MEDIA_TYPE) throw bad(where, `its config is ${config.mediaType}`);
  if (!Array.isArray(m['layers'])) throw bad(where, 'its manifest lists no layers');
  const layers = m['layers'].map((l, i) => {
    const d = descriptorOf(l, where, `layer ${i}`);
    if (layerCompression(d.mediaType) === undefined) throw bad(where, `layer ${i} has media type ${d.mediaType}`);
    return d;
  });
  return { config, layers };
}

/** The records of a cache, by key, from its manifest's layers and its config blob. */
export function parseCacheConfig(bytes: Uint8Array, layers: readonly Descriptor[], where: string): CacheRecords {
  const c = parseJson(bytes, where, 'config');
  if (!isObject(c) || !Array.isArray(c['diffIds']) || !Array.isArray(c['records'])) throw bad(where, 'its config has no diffIds and records');
  const diffIds = c['diffIds'] as unknown[];
  if (diffIds.length !== layers.length) throw bad(where, `its config lists ${diffIds.length} diff ids for ${layers.length} layers`);
  const created = c['created'] ?? [];
  if (!Array.isArray(created) || (created.length !== 0 && created.length !== layers.length)) throw bad(where, `its config lists creation times that do not match its ${layers.length} layers`);
  const cacheLayers = layers.map((blob, i): CacheLayer => {
    const diffId = diffIds[i];
    if (typeof diffId !== 'string' || !isDigest(diffId)) throw bad(where, `diff id ${i} is not a digest`);
    const time: unknown = created[i] ?? null;
    if (time !== null && (typeof time !== 'string' || Number.isNaN(Date.parse(time)))) throw bad(where, `the creation time of layer ${i} is not a time`);
    return { blob, diffId, ...(time === null ? {} : { created: time }) };
  });
  const records = new CacheRecords();
  for (const r of c['records'] as unknown[]) {
    if (!isObject(r) || typeof r['key'] !== 'string' || !isDigest(r['key']) || !Array.isArray(r['layers'])) throw bad(where, 'a record has no key and layers');
    const chain = (r['layers'] as unknown[]).map((i) => {
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= cacheLayers.length) throw bad(where, `record ${r['key']} names layer ${String(i)}`);
      return cacheLayers[i]!;
    });
    records.set(r['key'], chain);
    if (r['explain'] !== undefined) {
      const explain = parseExplanation(r['explain']);
      if (explain === undefined) throw bad(where, `record ${r['key']} has an explanation that does not parse`);
      records.explanations.set(r['key'], explain);
    }
  }
  return records;
}

/**
 * The cache mount archives of a cache, by cacheMountKey, from its config blob (already checked
 * by parseCacheConfig) and its manifest's layers. A cache without any (older ones too) has none.
 */
export function parseCacheMounts(bytes: Uint8Array, layers: readonly Descriptor[], where: string): Map<string, CacheMountArchive> {
  const c = parseJson(bytes, where, 'config');
  const mounts = new Map<string, CacheMountArchive>();
  if (!isObject(c) || c['mounts'] === undefined) return mounts;
  const list = c['mounts'];
  const diffIds = c['diffIds'];
  if (!Array.isArray(list) || !Array.isArray(diffIds)) throw bad(where, 'its cache mounts are not a list');
  for (const m of list as unknown[]) {
    if (!isObject(m) || typeof m['id'] !== 'string' || m['id'] === '') throw bad(where, 'a cache mount has no id');
    const id = m['id'];
    const i = m['layer'];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= layers.length) throw bad(where, `cache mount ${JSON.stringify(id)} names layer ${String(i)}`);
    const diffId: unknown = diffIds[i];
    if (typeof diffId !== 'string' || !isDigest(diffId)) throw bad(where, `diff id ${i} is not a digest`);
    const seed = seedOf(m['seed'], id, where);
    const key = cacheMountKey(id, seed);
    if (mounts.has(key)) throw bad(where, `cache mount ${JSON.stringify(id)} is listed twice`);
    mounts.set(key, { id, ...(seed === undefined ? {} : { seed }), layer: { blob: layers[i]!, diffId } });
  }
  return mounts;
}

function seedOf(v: unknown, id: string, where: string): CacheMountSeed | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || typeof v['chainId'] !== 'string' || typeof v['path'] !== 'string' || !v['path'].startsWith('/') || (v['chainId'] !== 'scratch' && !isDigest(v['chainId']))) {
    throw bad(where, `the seed of cache mount ${JSON.stringify(id)} is not a chain id and a path`);
  }
  return { chainId: v['chainId'], path: v['path'] };
}
