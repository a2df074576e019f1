/**
 * The local image store: `<state>/images/` is an OCI image layout whose index.json names
 * manifests by `org.opencontainers.image.ref.name` = the image name (see reference.ts), and
 * whose `blobs` is a symlink to the content store's blobs, so `skopeo`/`umoci` read it as is.
 * index.json is rewritten atomically (temp + rename) under a cross-process lock, so
 * concurrent taggers all land; readers never lock.
 */
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  errnoCode, isContentError, readLiveLeases, withLock, writeFileAtomic, type ContentStore, type Descriptor, type Digest, type LockOptions,
} from '../content/index.js';
import { ImageError, isImageError } from './errors.js';
import { readImageBlobs, type ImageBlobs } from './image.js';
import { memoizedLayerBlobs } from './layer-memo.js';
import { Annotation, MediaType, goJson, descriptorObject } from '../oci/index.js';
import { normalizeImageName } from './reference.js';

/** Unreferenced blobs younger than this survive prune: a build may not have leased them yet. */
export const DEFAULT_PRUNE_GRACE_MS = 10 * 60 * 1000;

export interface ImageStoreOptions {
  /** The images directory (`<state>/images`). */
  readonly root: string;
  readonly content: ContentStore;
  /** Lease files that protect blobs from prune (`<state>/leases`). */
  readonly leasesDir: string;
  readonly lock?: LockOptions;
}

export interface ImageRecord {
  readonly name: string;
  readonly manifest: Descriptor;
}

export interface ResolvedImage extends ImageBlobs {
  readonly name: string;
}

export interface ImageUsage {
  readonly name: string;
  readonly manifest: Digest;
  /** Manifest, config and layer blobs present in the store. */
  readonly size: number;
  /** The part of `size` no other image shares. */
  readonly uniqueSize: number;
}

export interface DiskUsage {
  readonly images: readonly ImageUsage[];
  /** Every blob in the content store. */
  readonly totalSize: number;
  /** Blobs some image references. */
  readonly referencedSize: number;
  /** Blobs no image and no live lease references. */
  readonly reclaimableSize: number;
}

export interface PruneOptions {
  /** Also drop compressed layers kept as cache (the layer memo); default keeps them. */
  readonly all?: boolean;
  /** Keep up to this many bytes of unreferenced blobs, most recently used first. */
  readonly keepStorage?: number;
  /** Lease directory to honour (default: the store's). */
  readonly leases?: string;
  /** Unreferenced blobs younger than this are kept (default 10 minutes). */
  readonly graceMs?: number;
}

export interface PruneResult {
  readonly deleted: readonly Digest[];
  readonly reclaimed: number;
  readonly staleLeases: readonly string[];
  readonly removedIngests: readonly string[];
}

export interface ImageStore {
  readonly root: string;
  tagImage(name: string, manifest: Descriptor): Promise<void>;
  resolveImage(name: string): Promise<ResolvedImage>;
  listImages(): Promise<readonly ImageRecord[]>;
  /** Removes the name only; true when it existed. */
  untagImage(name: string): Promise<boolean>;
  /** Removes the name and the image's blobs that nothing else references or leases. */
  removeImage(name: string): Promise<{ readonly deleted: readonly Digest[] }>;
  imageDiskUsage(): Promise<DiskUsage>;
  prune(options?: PruneOptions): Promise<PruneResult>;
}

interface IndexFile {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

export async function openImageStore(options: ImageStoreOptions): Promise<ImageStore> {
  const { root, content } = options;
  // Synchronous checks: every command opens the store, and these calls take microseconds.
  mkdirSync(root, { recursive: true });
  try {
    lstatSync(join(root, 'oci-layout'));
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    await writeFileAtomic(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  }
  try {
    lstatSync(join(root, 'blobs'));
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    await symlink(relative(root, join(content.root, 'blobs')), join(root, 'blobs')).catch((err: unknown) => {
      if (errnoCode(err) !== 'EEXIST') throw err;
    });
  }
  return new LocalImageStore(options);
}

class LocalImageStore implements ImageStore {
  readonly root: string;
  readonly #content: ContentStore;
  readonly #leasesDir: string;
  readonly #lockPath: string;
  readonly #lockOptions: LockOptions;

  constructor(options: ImageStoreOptions) {
    this.root = options.root;
    this.#content = options.content;
    this.#leasesDir = options.leasesDir;
    this.#lockPath = join(options.root, 'index.lock');
    this.#lockOptions = options.lock ?? {};
  }

  async tagImage(name: string, manifest: Descriptor): Promise<void> {
    const full = normalizeImageName(name);
    const entry: Descriptor = {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      annotations: { ...manifest.annotations, [Annotation.refName]: full },
      ...(manifest.platform ? { platform: manifest.platform } : {}),
    };
    const named = (index: readonly Descriptor[]) => index.some((d) => refName(d) === full && goJson(d) === goJson(entry));
    // A rebuild that made the same image leaves the index as it is, and takes no lock: the
    // name already protects the image's blobs from a prune.
    if (named(await this.#readIndex())) return;
    await withLock(this.#lockPath, async () => {
      // Under the lock, so a concurrent prune cannot delete what we are about to name.
      const image = await readImageBlobs(this.#content, manifest);
      if (!(await this.#content.has(image.config.digest))) {
        throw new ImageError('BAD_IMAGE', `cannot tag ${full}: config ${image.config.digest} is not in the content store`);
      }
      const index = await this.#readIndex();
      if (named(index)) return;
      await this.#writeIndex([...index.filter((d) => refName(d) !== full), entry]);
    }, this.#lockOptions);
  }

  async resolveImage(name: string): Promise<ResolvedImage> {
    const full = normalizeImageName(name);
    const entry = (await this.#readIndex()).find((d) => refName(d) === full);
    if (!entry) throw new ImageError('IMAGE_NOT_FOUND', `no image named ${full} in the local store`);
    const { annotations: _annotations, ...manifest } = entry;
    return { name: full, ...(await readImageBlobs(this.#content, manifest)) };
  }

  async listImages(): Promise<readonly ImageRecord[]> {
    return (await this.#readIndex()).map((d) => {
      const { annotations: _a, ...manifest } = d;
      return { name: refName(d)!, manifest };
    });
  }

  async untagImage(name: string): Promise<boolean> {
    const full = normalizeImageName(name);
    return withLock(this.#lockPath, async () => {
      const index = await this.#readIndex();
      const rest = index.filter((d) => refName(d) !== full);
      if (rest.length === index.length) return false;
      await this.#writeIndex(rest);
      return true;
    }, this.#lockOptions);
  }

  async removeImage(name: string): Promise<{ readonly deleted: readonly Digest[] }> {
    const full = normalizeImageName(name);
    return withLock(this.#lockPath, async () => {
      const index = await this.#readIndex();
      const entry = index.find((d) => refName(d) === full);
      if (!entry) throw new ImageError('IMAGE_NOT_FOUND', `no image named ${full} in the local store`);
      const rest = index.filter((d) => d !== entry);
      await this.#writeIndex(rest);
      const keep = await this.#referenced(rest);
      for (const b of (await readLiveLeases(this.#leasesDir)).blobs) keep.add(b);
      const mine = await this.#blobsOf(entry);
      const deleted: Digest[] = [];
      for (const d of mine) {
        if (!keep.has(d) && (await this.#content.delete(d))) deleted.push(d);
      }
      return { deleted };
    }, this.#lockOptions);
  }

  async imageDiskUsage(): Promise<DiskUsage> {
    const index = await this.#readIndex();
    const sizes = new Map<Digest, number>();
    let totalSize = 0;
    for await (const b of this.#content.walk()) {
      sizes.set(b.digest, b.size);
      totalSize += b.size;
    }
    const perImage = await Promise.all(index.map(async (d) => ({ name: refName(d)!, manifest: d.digest, blobs: await this.#blobsOf(d) })));
    const users = new Map<Digest, number>();
    for (const i of perImage) for (const b of i.blobs) users.set(b, (users.get(b) ?? 0) + 1);
    const images = perImage.map((i) => {
      let size = 0;
      let uniqueSize = 0;
      for (const b of i.blobs) {
        const s = sizes.get(b) ?? 0;
        size += s;
        if (users.get(b) === 1) uniqueSize += s;
      }
      return { name: i.name, manifest: i.manifest, size, uniqueSize };
    });
    let referencedSize = 0;
    for (const b of users.keys()) referencedSize += sizes.get(b) ?? 0;
    const leased = (await readLiveLeases(this.#leasesDir)).blobs;
    let reclaimableSize = 0;
    for (const [d, s] of sizes) if (!users.has(d) && !leased.has(d)) reclaimableSize += s;
    return { images, totalSize, referencedSize, reclaimableSize };
  }

  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    const grace = options.graceMs ?? DEFAULT_PRUNE_GRACE_MS;
    return withLock(this.#lockPath, async () => {
      const keep = await this.#referenced(await this.#readIndex());
      const leases = await readLiveLeases(options.leases ?? this.#leasesDir, { removeStale: true });
      for (const b of leases.blobs) keep.add(b);
      if (!options.all) for (const b of await memoizedLayerBlobs(this.#content)) keep.add(b);
      const removedIngests = await this.#content.cleanupIngests();
      const now = Date.now();
      const candidates = [];
      for await (const b of this.#content.walk()) {
        if (!keep.has(b.digest) && now - b.updatedAt.getTime() >= grace) candidates.push(b);
      }
      // keep-storage: the most recently used unreferenced blobs stay, up to the budget.
      candidates.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
      let kept = 0;
      const deleted: Digest[] = [];
      let reclaimed = 0;
      for (const b of candidates) {
        if (options.keepStorage !== undefined && kept + b.size <= options.keepStorage) {
          kept += b.size;
          continue;
        }
        if (await this.#content.delete(b.digest)) {
          deleted.push(b.digest);
          reclaimed += b.size;
        }
      }
      return { deleted, reclaimed, staleLeases: leases.stale, removedIngests };
    }, this.#lockOptions);
  }

  /** Every blob the given index entries reach (manifests, configs, layers). */
  async #referenced(entries: readonly Descriptor[]): Promise<Set<Digest>> {
    const out = new Set<Digest>();
    for (const e of entries) for (const d of await this.#blobsOf(e)) out.add(d);
    return out;
  }

  async #blobsOf(entry: Descriptor): Promise<Digest[]> {
    try {
      const image = await readImageBlobs(this.#content, entry);
      return [entry.digest, image.config.digest, ...image.layers.map((l) => l.digest)];
    } catch (e) {
      // A manifest missing from the store still holds its own digest; nothing else is known.
      if (isContentError(e, 'NOT_FOUND') || isImageError(e, 'BAD_IMAGE')) return [entry.digest];
      throw e;
    }
  }

  async #readIndex(): Promise<readonly Descriptor[]> {
    let text: string;
    try {
      // Synchronous: a small file read several times by every build.
      text = readFileSync(join(this.root, 'index.json'), 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    const index = JSON.parse(text) as IndexFile;
    return index.manifests.filter((d) => refName(d) !== undefined);
  }

  async #writeIndex(manifests: readonly Descriptor[]): Promise<void> {
    const sorted = [...manifests].sort((a, b) => (refName(a)! < refName(b)! ? -1 : 1));
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: sorted.map(descriptorObject) };
    await writeFileAtomic(join(this.root, 'index.json'), goJson(index));
  }
}

function refName(d: Descriptor): string | undefined {
  return d.annotations?.[Annotation.refName];
}
