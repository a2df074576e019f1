/**
 * `RUN --mount=type=cache` contents in the build cache (`--cache-to …,mounts=true|ID;ID`).
 *
 * Export: each selected cache id a RUN of the target's graph mounts is written as one layer
 * blob (the cache directory as a deterministic layer tar, compressed as `compression=` says,
 * by exporter/'s layer writer) and listed in the cache's config under its id. A directory
 * whose diff id is the one the imported cache lists for that id reuses the imported blob (no
 * compression, and no upload where the destination already holds it); a cache this machine
 * does not have (its RUNs all hit) carries the imported archive over.
 *
 * Import: a cache directory this state directory does not have is restored from the first
 * `--cache-from` that lists its id, when the first RUN that uses it runs (never for a build
 * whose RUNs all hit): the blob is read into the content store, verified by digest, and
 * extracted into a directory beside the cache's, renamed into place (exec-mounts.ts). A cache
 * directory that exists is never overwritten.
 *
 * What is exported: the cache's own directory, by id. A cache seeded `from=` a stage or image
 * is one archive per seed, the seed told as any machine can tell it (the chain id of the
 * source's layers and the path): it is restored only where the source has the same layers (a
 * stage imported from the same cache); a seed this build's steps did not use is dropped, but
 * when no step mounting the id ran, the imported ones are carried over. Steps running without
 * their cache (`--no-cache`, `--no-cache-filter`) start empty, as they do without an import.
 * With `sharing=private`, the first directory of the cache is exported and restored; further
 * ones start empty.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { cacheMountKey, cachePlace, type CacheLayer, type CacheMountArchive, type CacheMountSeed } from '../cache/index.js';
import { isContentError } from '../content/index.js';
import { BuildError } from '../errors/index.js';
import { exportLayer, openLayerTar, type LayerFormat } from '../exporter/index.js';
import { rememberBlobAsIs } from '../images/index.js';
import { inLayerFlavour, layerCompression, type Digest } from '../oci/index.js';
import { applyTar, diffDigest, diffTar } from '../snapshotter/index.js';
import type { Vertex } from '../solver/core/index.js';
import { cacheMountName, chainIds, ExecOp, layersOf, OnPlatform, type CacheMountRestorer, type CacheMountSource, type Ref } from '../solver/ops/index.js';
import { fileLocks } from './file-locks.js';
import type { ImportedCache } from './cache-import.js';
import type { State } from './state.js';

/** `mounts=` of a `--cache-to`: every cache mount of the build, or these ids. */
export type CacheMountSelection = true | readonly string[];

/** What the export of one cache takes from the build's cache mounts. */
export interface CacheMountExporter {
  /**
   * The archives of the selected cache mounts, for a cache written to `destination` (as
   * cache-export.ts names it: `local:DIR`, `registry:REF`, `gha:SCOPE`).
   */
  archives(selection: CacheMountSelection, format: LayerFormat, destination: string, warn: (message: string) => void): Promise<CacheMountArchive[]>;
}

/** The cache mounts of the RUN steps below `top`, by id: whether one is seeded and one is not. */
export function graphCacheMounts(top: Vertex<Ref>): Map<string, { seeded: boolean; plain: boolean }> {
  const out = new Map<string, { seeded: boolean; plain: boolean }>();
  const seen = new Set<Vertex<Ref>>();
  const visit = (v: Vertex<Ref>): void => {
    if (seen.has(v)) return;
    seen.add(v);
    const op = v.op instanceof OnPlatform ? v.op.op : v.op;
    if (op instanceof ExecOp) {
      for (const m of op.cacheMounts()) {
        const e = out.get(m.id) ?? { seeded: false, plain: false };
        if (m.seeded) e.seeded = true;
        else e.plain = true;
        out.set(m.id, e);
      }
    }
    v.inputs.forEach(visit);
  };
  visit(top);
  return out;
}

/** An archive an import lists, and that import. */
interface Imported {
  readonly from: ImportedCache;
  readonly archive: CacheMountArchive;
}

/** The cache mounts of one build: restored from its imports, exported with its caches. */
export class CacheMountArchives implements CacheMountRestorer, CacheMountExporter {
  private imports: readonly ImportedCache[] = [];
  /** Ids whose steps run without their cache: they start empty, never restored. */
  private readonly skipped = new Set<string>();
  /** The target's cache mounts, once the graph is known. */
  private used = new Map<string, { seeded: boolean; plain: boolean }>();
  /** The directories of seeded caches the steps that ran mounted: id → directory → source. */
  private readonly seededDirs = new Map<string, Map<string, CacheMountSource>>();

  constructor(private readonly state: State) {}

  /** The build's `--cache-from`s, in order (the first one listing an archive is used). */
  useImports(imports: readonly ImportedCache[]): void {
    this.imports = imports;
  }

  /** The target's graph, whose RUNs' cache mounts an export may write. */
  useGraph(top: Vertex<Ref>): void {
    this.used = graphCacheMounts(top);
  }

  /** Caches of steps that run without their cache: they start empty, as BuildKit's do. */
  skip(ids: Iterable<string>): void {
    for (const id of ids) this.skipped.add(id);
  }

  /** The imported archives of cache `id`, by cacheMountKey, each from the first import listing it. */
  private importedOf(id: string): Map<string, Imported> {
    const out = new Map<string, Imported>();
    for (const from of this.imports) {
      for (const [key, archive] of from.source.mounts ?? []) if (archive.id === id && !out.has(key)) out.set(key, { from, archive });
    }
    return out;
  }

  /** A seed as any machine tells it: the source's layer chain id and the path. */
  private async seedOf(source: CacheMountSource): Promise<CacheMountSeed> {
    if (source.snapshot === null) return { chainId: 'scratch', path: source.path };
    const chain = chainIds((await layersOf(this.state, source.snapshot)).map((l) => l.diffId));
    return { chainId: chain.at(-1) ?? 'scratch', path: source.path };
  }

  has(id: string): boolean {
    return !this.skipped.has(id) && this.importedOf(id).size > 0;
  }

  async restore(id: string, source: CacheMountSource | undefined, into: string, signal: AbortSignal): Promise<boolean> {
    const found = this.importedOf(id).get(cacheMountKey(id, source === undefined ? undefined : await this.seedOf(source)));
    if (found === undefined) return false;
    const { blob, diffId } = found.archive.layer;
    await found.from.fetch(blob);
    signal.throwIfAborted();
    await applyTar(await openLayerTar(this.state.content, blob), into);
    // A later export of the unchanged directory finds this blob instead of compressing again.
    await rememberBlobAsIs(this.state.content, diffId, blob);
    return true;
  }

  seededDir(id: string, source: CacheMountSource, dir: string): void {
    let dirs = this.seededDirs.get(id);
    if (dirs === undefined) this.seededDirs.set(id, (dirs = new Map()));
    dirs.set(dir, source);
  }

  async archives(selection: CacheMountSelection, format: LayerFormat, destination: string, warn: (message: string) => void): Promise<CacheMountArchive[]> {
    const ids = selection === true ? [...this.used.keys()].sort() : [...new Set(selection)];
    const out: CacheMountArchive[] = [];
    for (const id of ids) {
      const use = this.used.get(id);
      if (use === undefined) {
        warn(`cache mount ${JSON.stringify(id)} not exported to ${destination}: no RUN of this build mounts it`);
        continue;
      }
      const imported = this.importedOf(id);
      const made = async (dir: string, seed?: CacheMountSeed) => {
        const layer = await this.archive(id, dir, imported.get(cacheMountKey(id, seed)), format, destination);
        if (layer !== undefined) out.push({ id, ...(seed === undefined ? {} : { seed }), layer });
      };
      if (use.plain) await made(join(this.state.cacheMountsDir, cacheMountName(id)));
      if (!use.seeded) continue;
      const dirs = this.seededDirs.get(id);
      if (dirs !== undefined) {
        for (const [dir, source] of dirs) await made(dir, await this.seedOf(source));
        continue;
      }
      // No step that mounts it ran here: the seeded archives imported for it go on as they are.
      for (const found of imported.values()) if (found.archive.seed !== undefined) out.push({ ...found.archive, layer: await this.carried(found, format, destination) });
    }
    return out;
  }

  /**
   * An imported archive, exported again as it is. Its blob must be where the backend reads it,
   * unless the destination holds it already (the cache it was imported from: the layout links
   * it, the registry and gha skip it). With `force-compression`, one in another compression is
   * compressed again from its own tar, as pulled layers are.
   */
  private async carried(found: Imported, format: LayerFormat, destination: string): Promise<CacheLayer> {
    const { layer } = found.archive;
    if (format.force === true && layerCompression(layer.blob.mediaType) !== format.compression) {
      await found.from.fetch(layer.blob);
      return this.compressed(layer.diffId, format, () => openLayerTar(this.state.content, layer.blob));
    }
    if (cachePlace(found.from.source.where) !== cachePlace(destination)) await found.from.fetch(layer.blob);
    // Named as the format's media types name it (oci-mediatypes=false), as the records' layers are.
    return { ...layer, blob: inLayerFlavour(layer.blob, format.ociMediaTypes) };
  }

  /** The blob of tar `diffId` in `format`, by the layer writer (made once per diff id and compression). */
  private async compressed(diffId: Digest, format: LayerFormat, openTar: () => Readable | Promise<Readable>): Promise<CacheLayer> {
    const { blob } = await exportLayer(this.state.content, diffId, format, openTar);
    return { blob: inLayerFlavour(blob, format.ociMediaTypes), diffId };
  }

  /** One cache's archive: made from its directory, the imported one reused, or none. */
  private async archive(id: string, dir: string, found: Imported | undefined, format: LayerFormat, destination: string): Promise<CacheLayer | undefined> {
    if ((await stat(dir).catch(() => undefined)) === undefined) return found === undefined ? undefined : this.carried(found, format, destination);
    // Held as a locked or private step holds it: those steps do not write it meanwhile.
    const lock = await fileLocks.hold(`${dir}.lock`);
    try {
      const { diffId } = await diffDigest(dir);
      if (found !== undefined && found.archive.layer.diffId === diffId) return await this.carried(found, format, destination);
      // The layer writer checks the tar it compresses against diffId: a directory a shared
      // step of another build changed meanwhile fails the export instead of being mislabelled.
      return await this.compressed(diffId, format, () => diffTar(dir)).catch((e: unknown) => {
        if (!isContentError(e, 'DIGEST_MISMATCH')) throw e;
        throw new BuildError('CACHE_EXPORT', `cache mount ${JSON.stringify(id)} changed while it was being archived`, {
          hint: 'a RUN of another build writes it (sharing=shared); export again once it is done',
        }, { cause: e });
      });
    } finally {
      await lock.release();
    }
  }
}
