/**
 * `type=local`: the cache as an OCI image layout directory (`oci-layout`, `index.json`,
 * `blobs/sha256/…`), its manifest in index.json under `org.opencontainers.image.ref.name` =
 * the tag, as BuildKit's local cache does. An export writes a whole new layout beside the old
 * one and swaps it in, so a reader sees the old cache or the new one, never a part; what the
 * old layout held under other tags is carried over, and blobs no manifest names are left
 * behind. An import reads the manifest and records at once and a layer blob only when asked.
 */
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, sha256Of, type ContentStore } from '../content/index.js';
import { BuildError } from '../errors/index.js';
import { writeDirAtomically } from '../exporter/index.js';
import { Annotation, digestHex, isDigest, MediaType, type Descriptor, type Digest } from '../oci/index.js';
import { CACHE_ARTIFACT_TYPE, parseCacheConfig, parseCacheManifest, parseCacheMounts, type CacheLayer, type CacheMountArchive, type EncodedCache } from './format.js';
import type { CacheWriter } from './writer.js';

/** The tag a local cache is written and read under unless `tag=` says otherwise (as BuildKit). */
export const DEFAULT_CACHE_TAG = 'latest';

/** An imported cache: its records by key, and its layer blobs on demand. */
export interface CacheSource {
  /** How messages name it, e.g. `local:/ci/cache`. */
  readonly where: string;
  readonly records: ReadonlyMap<Digest, readonly CacheLayer[]>;
  /** `RUN --mount=type=cache` archives (`--cache-to …,mounts=`) by cacheMountKey (id, and seed); none in a cache without them. */
  readonly mounts?: ReadonlyMap<string, CacheMountArchive>;
  /** A layer blob's bytes as stored (the reader verifies them: see ContentIngester.writeBlob). */
  open(blob: Descriptor): Promise<Readable>;
  /**
   * Whether the backend still holds a layer blob, for backends that may lose one under a record
   * that names it (gha evicts entries): a record whose chain is not all there is a miss.
   */
  available?(blob: Descriptor): Promise<boolean>;
  /**
   * Records, without reading the blob, where the backend holds it for pushes to mount from
   * (a registry's repository); for a hit whose blobs may be pushed but never read (lazy import).
   */
  noteSource?(blob: Descriptor): Promise<void>;
}

const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';
/** Manifests and configs are read whole; a larger one is not a cache's. */
const MAX_METADATA = 64 * 1024 * 1024;

const blobFile = (dir: string, digest: Digest) => join(dir, 'blobs', 'sha256', digestHex(digest));

interface IndexEntry {
  readonly descriptor: Descriptor & { readonly artifactType?: string };
  readonly tag: string | undefined;
}

/** index.json's entries; undefined when there is no index.json. */
async function readIndex(dir: string, where: string): Promise<IndexEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw new BuildError('IO', `cannot read ${join(dir, 'index.json')}: ${(e as Error).message}`);
  }
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch {
    throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not an OCI layout: its index.json is not JSON`);
  }
  const manifests = (index as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not an OCI layout: its index.json lists no manifests`);
  return manifests.map((entry: unknown) => {
    const m = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof m['digest'] !== 'string' || !isDigest(m['digest']) || typeof m['size'] !== 'number') {
      throw new BuildError('CACHE_IMPORT', `the cache at ${where} is not an OCI layout: an index.json entry has no digest and size`);
    }
    const annotations = (m['annotations'] ?? {}) as Record<string, unknown>;
    const tag = annotations[Annotation.refName];
    return {
      descriptor: {
        mediaType: String(m['mediaType']),
        digest: m['digest'],
        size: m['size'],
        ...(typeof m['artifactType'] === 'string' ? { artifactType: m['artifactType'] } : {}),
      },
      tag: typeof tag === 'string' ? tag : undefined,
    };
  });
}

/** A manifest or config blob of the layout, its digest and size checked. */
async function readBlob(dir: string, desc: Descriptor, where: string): Promise<Buffer> {
  if (desc.size > MAX_METADATA) throw new BuildError('CACHE_IMPORT', `the cache at ${where} lists a ${desc.size}-byte ${desc.mediaType}: too large`);
  let bytes: Buffer;
  try {
    bytes = await readFile(blobFile(dir, desc.digest));
  } catch (e) {
    throw new BuildError('CACHE_IMPORT', `the cache at ${where} lacks blob ${desc.digest}: ${errnoCode(e) === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (bytes.length !== desc.size || sha256Of(bytes) !== desc.digest) throw new BuildError('CACHE_IMPORT', `the cache at ${where} has a corrupt blob ${desc.digest}`);
  return bytes;
}

/**
 * The cache at `src` under `tag` (default latest), or the manifest `digest`. A directory, tag
 * or manifest that is not there is not an error (BuildKit warns and builds without it): the
 * reason comes back as `missing`. A cache that is there but broken is refused (CACHE_IMPORT).
 */
export async function openLocalCache(
  src: string,
  options: { readonly tag?: string; readonly digest?: Digest } = {},
): Promise<CacheSource | { readonly missing: string }> {
  const where = `local:${src}`;
  let manifest: Descriptor;
  if (options.digest !== undefined) {
    let size: number;
    try {
      size = (await stat(blobFile(src, options.digest))).size;
    } catch (e) {
      return { missing: `local cache import at ${src} skipped: digest ${options.digest} unavailable: ${errnoCode(e) ?? (e as Error).message}` };
    }
    manifest = { mediaType: MediaType.ociManifest, digest: options.digest, size };
  } else {
    const tag = options.tag ?? DEFAULT_CACHE_TAG;
    const index = await readIndex(src, where);
    if (index === undefined) return { missing: `local cache import at ${src} not found: it has no index.json` };
    const entry = index.find((e) => e.tag === tag);
    if (entry === undefined) return { missing: `local cache import at ${src} skipped: no digest found for tag ${tag}` };
    manifest = entry.descriptor;
  }
  const parsed = parseCacheManifest(await readBlob(src, manifest, where), where);
  const config = await readBlob(src, parsed.config, where);
  const records = parseCacheConfig(config, parsed.layers, where);
  return {
    where,
    records,
    mounts: parseCacheMounts(config, parsed.layers, where),
    async open(blob) {
      const path = blobFile(src, blob.digest);
      try {
        // Opened first, so a missing blob fails here and not mid-stream.
        const s = createReadStream(path);
        await new Promise<void>((resolve, reject) => s.once('open', () => resolve()).once('error', reject));
        return s;
      } catch (e) {
        throw new BuildError('CACHE_IMPORT', `the cache at ${where} lacks layer ${blob.digest}: ${errnoCode(e) === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
    },
  };
}

/** Manifests kept from the old layout (other tags), with every blob they name. */
async function keptFromOld(dest: string, tag: string): Promise<{ entries: IndexEntry[]; blobs: Set<Digest> }> {
  const entries: IndexEntry[] = [];
  const blobs = new Set<Digest>();
  let index: IndexEntry[] | undefined;
  try {
    index = await readIndex(dest, `local:${dest}`);
  } catch (e) {
    // A broken index of an earlier export is replaced, not carried over.
    if (e instanceof BuildError && e.code === 'CACHE_IMPORT') return { entries, blobs };
    throw e;
  }
  for (const entry of index ?? []) {
    if (entry.tag === tag || entry.descriptor.artifactType !== CACHE_ARTIFACT_TYPE) continue;
    try {
      const where = `local:${dest}`;
      const m = parseCacheManifest(await readBlob(dest, entry.descriptor, where), where);
      await readBlob(dest, m.config, where);
      for (const l of m.layers) await stat(blobFile(dest, l.digest));
      entries.push(entry);
      for (const d of [entry.descriptor.digest, m.config.digest, ...m.layers.map((l) => l.digest)]) blobs.add(d);
    } catch {
      // A manifest whose blobs are not all there is dropped: an import could not use it.
    }
  }
  return { entries, blobs };
}

/** Refuses to replace a directory that is not a layout (a build never removes the user's files). */
async function checkReplaceable(dest: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dest);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    if (errnoCode(e) === 'ENOTDIR') throw new BuildError('CACHE_EXPORT', `cannot export the cache to ${dest}: it is not a directory`);
    throw new BuildError('CACHE_EXPORT', `cannot export the cache to ${dest}: ${(e as Error).message}`);
  }
  if (names.length > 0 && !names.includes('index.json') && !names.includes('oci-layout')) {
    throw new BuildError('CACHE_EXPORT', `cannot export the cache to ${dest}: the directory is not empty and not an OCI layout`, {
      hint: 'name an empty or new directory, or one an earlier --cache-to type=local wrote',
    });
  }
}

/**
 * A blob into the new layout: linked from the old layout when it holds it (an import checks
 * every blob it reads), else copied from the content store (never linked: the user's
 * directory must not share an inode with the store).
 */
async function placeBlob(dir: string, old: string, digest: Digest, content: LayoutContent): Promise<void> {
  const target = blobFile(dir, digest);
  try {
    await link(blobFile(old, digest), target);
    return;
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'EXDEV' && errnoCode(e) !== 'EPERM') throw e;
  }
  await copyFile(content.blobPath(digest), target);
}

/** Where an export's layer blobs are read. */
export type LayoutContent = Pick<ContentStore, 'blobPath'>;

/**
 * Writes `cache` to `dest` under `tag`, replacing what `dest` held under that tag; the layer
 * blobs come from `content` (or the old layout, which holds them already).
 */
export async function writeLocalCache(dest: string, cache: EncodedCache, content: LayoutContent, options: { readonly tag?: string } = {}): Promise<void> {
  await (await beginLocalCache(dest, content, options)).finish(cache);
}

/**
 * Opens an export to `dest` under `tag`: a new layout is filled in a sibling temporary
 * directory as blobs are put, and swapped in by `finish`; `abort` removes it, leaving the old
 * cache as it was.
 */
export async function beginLocalCache(dest: string, content: LayoutContent, options: { readonly tag?: string } = {}): Promise<CacheWriter> {
  const tag = options.tag ?? DEFAULT_CACHE_TAG;
  await checkReplaceable(dest);
  const placed = new Map<Digest, Promise<void>>();
  let end!: (cache: EncodedCache | undefined) => void;
  const ended = new Promise<EncodedCache | undefined>((resolve) => (end = resolve));
  let swapped!: Promise<void>;
  // The directory exists until the fill below returns: a throw (abort) makes writeDirAtomically remove it.
  const dir = new Promise<string>((resolve, reject) => {
    swapped = writeDirAtomically(dest, async (d) => {
      await mkdir(join(d, 'blobs', 'sha256'), { recursive: true });
      resolve(d);
      const cache = await ended;
      await Promise.allSettled(placed.values());
      if (cache === undefined) throw new Error('aborted');
      await fillLayout(d, dest, tag, cache, content, placed);
    });
    swapped.catch(reject);
  });
  // Either way, the outcome is read by finish or abort.
  swapped.catch(() => {});
  dir.catch(() => {});
  const place = (digest: Digest): Promise<void> => {
    let p = placed.get(digest);
    if (p === undefined) {
      p = dir.then((d) => placeBlob(d, dest, digest, content));
      placed.set(digest, p);
    }
    return p;
  };
  return {
    async putBlob(blob) {
      await place(blob.digest);
      return 'stored';
    },
    async finish(cache) {
      end(cache);
      await swapped;
      return {};
    },
    async abort() {
      end(undefined);
      await swapped.catch(() => {});
    },
  };
}

/** The rest of a new layout in `dir`: blobs not placed yet, kept manifests, config, manifest, index. */
async function fillLayout(dir: string, dest: string, tag: string, cache: EncodedCache, content: LayoutContent, placed: ReadonlyMap<Digest, Promise<void>>): Promise<void> {
  // A blob whose placing failed fails the export here.
  await Promise.all(placed.values());
  const kept = await keptFromOld(dest, tag);
  const entry = {
    mediaType: cache.manifest.descriptor.mediaType,
    artifactType: CACHE_ARTIFACT_TYPE,
    digest: cache.manifest.descriptor.digest,
    size: cache.manifest.descriptor.size,
    annotations: { [Annotation.refName]: tag },
  };
  const manifests = [
    ...kept.entries.map((e) => ({
      mediaType: e.descriptor.mediaType,
      artifactType: CACHE_ARTIFACT_TYPE,
      digest: e.descriptor.digest,
      size: e.descriptor.size,
      annotations: { [Annotation.refName]: e.tag ?? '' },
    })),
    entry,
  ];
  const written = new Set<Digest>(placed.keys());
  for (const digest of kept.blobs) {
    if (written.has(digest)) continue;
    await link(blobFile(dest, digest), blobFile(dir, digest)).catch(async () => copyFile(blobFile(dest, digest), blobFile(dir, digest)));
    written.add(digest);
  }
  for (const layer of cache.layers) {
    if (written.has(layer.digest)) continue;
    await placeBlob(dir, dest, layer.digest, content);
    written.add(layer.digest);
  }
  for (const b of [cache.config, cache.manifest]) {
    if (!written.has(b.descriptor.digest)) await writeFile(blobFile(dir, b.descriptor.digest), b.bytes, { mode: 0o644 });
  }
  await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
}
