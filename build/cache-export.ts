/**
 * `--cache-to`: the records of a solved build (each step's cache key → its result's layer
 * chain), their layer blobs uploaded while the build runs (see CacheExports), the records and
 * manifest written after the image outputs. mode=min keeps the steps whose
 * snapshots are the image's layers, mode=max every step of the build: the ones it executed or hit,
 * and the ones under a hit, recorded from what the cache holds under their keys (a build from
 * the cache writes back the whole cache it read, as BuildKit does). Layer blobs are the ones the outputs
 * use, made once per layer and format (the layer memo): a blob that exists, pulled or
 * imported, is never compressed again.
 */
import PQueue from 'p-queue';
import {
  beginGhaCache, beginLocalCache, beginRegistryCache, cachePlace, encodeCache, ghaMayWrite,
  type CacheForm, type CacheLayer, type CacheSource, type CacheWriter, type GhaCacheMode, type GhaEndpoint,
} from '../cache/index.js';
import { BuildError } from '../errors/index.js';
import { exportLayer, type LayerFormat } from '../exporter/index.js';
import { inLayerFlavour, type Descriptor } from '../oci/index.js';
import { digestOf, type Digest, type EventSink, type StepExplanation } from '../solver/core/index.js';
import { layerCreated, layersOf, openSnapshotTar, type Layer, type LazyChain, type LazyLayer, type Ref } from '../solver/ops/index.js';
import { parseReference } from '../images/index.js';
import { fetchingBlobPath, fetchingProvider, lazyLayerBlob } from './lazy-layers.js';
import type { CacheMountExporter, CacheMountSelection } from './cache-mount-archives.js';
import type { RegistryAccess } from './pull.js';
import { pushOptionsFor } from './push.js';
import type { State } from './state.js';

/** What every `--cache-to` has, whatever its backend. */
interface CacheExportCommon {
  readonly mode: 'min' | 'max';
  readonly format: LayerFormat;
  /** A failed export is a warning instead of the build's failure. */
  readonly ignoreError: boolean;
  /** What the cache's top blob is (`image-manifest=`, `oci-mediatypes=`); an image manifest when not given. */
  readonly form?: CacheForm;
  /** `mounts=`: the `RUN --mount=type=cache` contents to export too (cache-mount-archives.ts). */
  readonly mounts?: CacheMountSelection;
}

/** `--cache-to type=local`: an OCI layout directory. */
export interface LocalCacheExport extends CacheExportCommon {
  readonly type: 'local';
  readonly dest: string;
  /** The index.json tag to write (default latest). */
  readonly tag?: string;
}

/** `--cache-to type=registry`: a manifest under an image reference. */
export interface RegistryCacheExport extends CacheExportCommon {
  readonly type: 'registry';
  /** The image reference the cache manifest goes under. */
  readonly ref: string;
}

/** `--cache-to type=gha`: the GitHub Actions cache service. */
export interface GhaCacheExport extends CacheExportCommon {
  readonly type: 'gha';
  readonly scope: string;
  readonly endpoint: GhaEndpoint;
  /** `ACTIONS_CACHE_MODE`, when set. */
  readonly cacheMode?: GhaCacheMode;
}

/** A `--cache-to` as parsed. */
export type CacheExport = LocalCacheExport | RegistryCacheExport | GhaCacheExport;

/** How messages and progress name a cache destination. */
function destinationOf(spec: CacheExport): string {
  switch (spec.type) {
    case 'local':
      return `local:${spec.dest}`;
    case 'registry':
      return `registry:${spec.ref}`;
    case 'gha':
      return `gha:${spec.scope}`;
  }
}

/** Opens the export `spec` asks for; `listed` is an import of the same destination, if any. */
async function beginWriter(
  state: State,
  spec: CacheExport,
  access: RegistryAccess | undefined,
  listed: CacheSource | undefined,
  /** Imported hits not unpacked: a registry or gha export reads (fetches) only the blobs it uploads. */
  lazy: readonly LazyChain[],
): Promise<CacheWriter> {
  switch (spec.type) {
    case 'local':
      return beginLocalCache(spec.dest, state.content, spec.tag === undefined ? {} : { tag: spec.tag });
    case 'registry': {
      if (access === undefined) throw new Error('internal: a registry cache export without registry access');
      const ref = parseReference(spec.ref);
      return beginRegistryCache(ref, fetchingProvider(state.content, lazy), await pushOptionsFor(ref.domain, access, state.content), listed);
    }
    case 'gha':
      return beginGhaCache(spec.endpoint, spec.scope, fetchingBlobPath(state.content, lazy), listed);
  }
}

/** A step's result under its cache key. */
export interface SolvedStep {
  readonly key: Digest;
  readonly ref: Ref;
  /** The key in comparable parts, written with the record (why a later build missed it). */
  readonly explain?: StepExplanation;
}

/** A step under a hit, with what the cache holds under its key; `onChain`: on the target's chain of roots. */
export interface RecordedStep extends SolvedStep {
  readonly onChain: boolean;
}

/** What a solve hands the cache export. */
export interface CacheResults {
  /** Every step with a result, executed or hit (mode=max). */
  readonly all: readonly SolvedStep[];
  /** The steps along the target's chain of roots that have one (mode=min). */
  readonly chain: readonly SolvedStep[];
  /**
   * The steps the solve keyed but left without a result (under a hit), with the result the
   * local index or an import holds for each key (an import's lazy: nothing read); looked up
   * once, when first asked. mode=max records them all, mode=min and the inline cache those
   * on the chain: a build from the cache writes the whole cache, not only its hits.
   */
  readonly recorded?: () => Promise<readonly RecordedStep[]>;
  /** The build's cache mounts, for `mounts=`. */
  readonly mounts?: CacheMountExporter;
}

/** Blobs uploaded at once per destination (largest first among those ready). */
const UPLOADS_AT_ONCE = 4;

/** One `--cache-to` under way. */
interface Target {
  readonly spec: CacheExport;
  readonly where: string;
  /** The export's progress step. */
  readonly digest: Digest;
  started: boolean;
  writer?: Promise<CacheWriter>;
  readonly queue: PQueue;
  /** Layer blobs in the spec's format, by diff id (made once per layer). */
  readonly blobs: Map<string, Promise<CacheLayer>>;
  readonly puts: Set<Digest>;
  /** Work under way (compressions, uploads); each one settles, never rejects. */
  readonly pending: Set<Promise<void>>;
  failure?: unknown;
}

/**
 * The cache exports of one build, overlapping it: `begin` opens each destination once the
 * imports are known, `add` is called with each step's result as the solve settles on it (the
 * solver's onResult), and uploads that step's layer blobs at once — mode=min only the steps on
 * the target's chain of roots — a few at a time, largest first among those ready. `finish`,
 * after the image outputs, writes the records (config) and the manifest or index entry; a
 * failure until then is the export's, reported there (a warning with ignore-error), never the
 * solve's. `abort` (the build failed) leaves every destination as it was.
 */
export class CacheExports {
  private readonly targets: Target[] = [];
  private aborted = false;
  /** The imported hits among the results, not unpacked (live: the registry writers read it). */
  private readonly lazy: LazyChain[] = [];

  constructor(
    private readonly state: State,
    specs: readonly CacheExport[],
    private readonly events: EventSink,
    private readonly warn: (message: string) => void,
    /** Credentials, TLS and plain-HTTP hosts, as pushes use them (type=registry). */
    private readonly access?: RegistryAccess,
  ) {
    for (const spec of specs) {
      if (spec.type === 'gha' && !ghaMayWrite(spec.cacheMode)) {
        warn(`exporting cache to gha:${spec.scope} skipped: ACTIONS_CACHE_MODE=${spec.cacheMode} does not allow writing`);
        continue;
      }
      const where = destinationOf(spec);
      this.targets.push({
        spec,
        where,
        digest: digestOf(spec.type === 'local' ? { cacheExport: spec.dest, tag: spec.tag ?? null } : { cacheExport: where }),
        started: false,
        queue: new PQueue({ concurrency: UPLOADS_AT_ONCE }),
        blobs: new Map(),
        puts: new Set(),
        pending: new Set(),
      });
    }
  }

  /** Opens every destination; `imports` are the caches imported (their listed blobs are not probed again). */
  begin(imports: readonly CacheSource[]): void {
    for (const t of this.targets) {
      if (t.writer !== undefined) continue;
      // Async: a throw (a reference that does not parse) is the export's failure, not the build's.
      t.writer = (async () => beginWriter(this.state, t.spec, this.access, imports.find((s) => s.where === cachePlace(t.where)), this.lazy))();
      this.track(t, t.writer.then(() => {}));
    }
  }

  /** A step's result, as the solve settles on it; `onChain`: the step is on the target's chain of roots. */
  add(step: SolvedStep, onChain: boolean): void {
    if (this.aborted) return;
    for (const t of this.targets) this.addTo(t, step, onChain);
  }

  /** Puts the layer blobs of `step` to `t`, if its mode records the step. */
  private addTo(t: Target, { ref }: SolvedStep, onChain: boolean): void {
    if ('lazy' in ref) {
      if (!this.lazy.includes(ref.lazy)) this.lazy.push(ref.lazy);
    } else if (ref.snapshot === null) return;
    if ((t.spec.mode === 'min' && !onChain) || t.failure !== undefined) return;
    // Each layer as soon as its blob is made: the step's own does not wait for those below.
    this.track(t, (async () => Promise.all((await this.chainOf(t, ref)).map(async (p) => this.put(t, (await p).blob))))());
  }

  /** The layer blobs of a result in `t`'s format, bottom first, each made once. */
  private async chainOf(t: Target, ref: Ref): Promise<Promise<CacheLayer>[]> {
    if ('lazy' in ref) return ref.lazy.layers.map((l) => this.lazyBlobOf(t, ref.lazy, l));
    if (ref.snapshot === null) return [];
    return (await layersOf(this.state, ref.snapshot)).map((l) => this.blobOf(t, l));
  }

  /**
   * Writes each cache's records and manifest once its uploads are done. A failure with
   * `ignore-error` is a warning; without it, the first such failure is returned (after the
   * other caches are written), for the caller to fail the build with once the outputs are done.
   */
  async finish(results: CacheResults): Promise<BuildError | undefined> {
    let failure: BuildError | undefined;
    for (const t of this.targets) {
      this.start(t);
      try {
        const writer = this.writerOf(t);
        // The steps under a hit, recorded from what the cache holds: their blobs are put too.
        const recorded = ((await results.recorded?.()) ?? []).filter((s) => t.spec.mode === 'max' || s.onChain);
        for (const step of recorded) this.addTo(t, step, step.onChain);
        await this.settled(t);
        if (t.failure !== undefined) throw t.failure;
        const steps = [...(t.spec.mode === 'max' ? results.all : results.chain), ...recorded];
        const records = await Promise.all(
          steps.map(async ({ key, ref, explain }) => ({
            key,
            chain: await Promise.all(await this.chainOf(t, ref)),
            ...(explain === undefined ? {} : { explain }),
          })),
        );
        const { mounts } = t.spec;
        const archives = mounts === undefined || results.mounts === undefined ? [] : await results.mounts.archives(mounts, t.spec.format, t.where, (m) => this.warn(m));
        const summary = await (await writer).finish(encodeCache(records, archives, t.spec.form));
        if (summary.status !== undefined) this.events({ kind: 'status', digest: t.digest, ...summary.status });
        if (summary.warning !== undefined) this.warn(summary.warning);
        this.emit(t, 'done');
      } catch (e) {
        const error = this.exportError(t, e);
        this.emit(t, 'failed', error.message);
        if (t.spec.ignoreError) this.warn(`${error.message} (ignored: ignore-error=true)`);
        else failure ??= error;
        await this.abortOne(t);
      }
    }
    return failure;
  }

  /** The build failed: uploads under way end, and no destination gets a new cache. */
  async abort(): Promise<void> {
    this.aborted = true;
    await Promise.all(this.targets.map((t) => this.abortOne(t)));
  }

  private async abortOne(t: Target): Promise<void> {
    await this.settled(t);
    await t.writer?.then((w) => w.abort(), () => {});
  }

  /** The writer of `t`, opened now (no import listed) if begin was not called. */
  private writerOf(t: Target): Promise<CacheWriter> {
    if (t.writer === undefined) this.begin([]);
    return t.writer!;
  }

  /** Queues the upload of one blob (once per destination). */
  private put(t: Target, blob: Descriptor): void {
    if (t.puts.has(blob.digest)) return;
    t.puts.add(blob.digest);
    const writer = this.writerOf(t);
    const upload = async () => {
      if (this.aborted || t.failure !== undefined) return;
      this.start(t);
      const status = (id: string, current: number) => this.events({ kind: 'status', digest: t.digest, id, current, total: blob.size });
      status(`uploading layer ${blob.digest}`, 0);
      const outcome = await (await writer).putBlob(blob);
      if (outcome === 'stored') status(`uploading layer ${blob.digest}`, blob.size);
      else status(outcome === 'present' ? `layer ${blob.digest} already there` : `layer ${blob.digest} goes with the last requests`, blob.size);
    };
    this.track(t, t.queue.add(upload, { priority: blob.size }));
  }

  /** Keeps `work` of `t` until it settles; a failure becomes the export's. */
  private track(t: Target, work: Promise<unknown>): void {
    const p: Promise<void> = work.then(
      () => {},
      (e: unknown) => {
        t.failure ??= e;
      },
    );
    t.pending.add(p);
    void p.finally(() => t.pending.delete(p));
  }

  /** Until every piece of work of `t`, including work it started meanwhile, has settled. */
  private async settled(t: Target): Promise<void> {
    while (t.pending.size > 0) await Promise.all(t.pending);
  }

  /** The blob of the layer `diffId` in `t`'s format, made by `make` the first time it is asked for. */
  private once(t: Target, diffId: string, make: () => Promise<CacheLayer>): Promise<CacheLayer> {
    let p = t.blobs.get(diffId);
    if (p === undefined) {
      p = make();
      t.blobs.set(diffId, p);
    }
    return p;
  }

  /** A layer's blob in the spec's format (compressed once; an existing blob is reused). */
  private blobOf(t: Target, layer: Layer): Promise<CacheLayer> {
    const { format } = t.spec;
    return this.once(t, layer.diffId, async () => {
      const { blob, diffId } = await exportLayer(this.state.content, layer.diffId, format, () => openSnapshotTar(this.state, layer.snapshot));
      return { blob: inLayerFlavour(blob, format.ociMediaTypes), diffId, created: await layerCreated(this.state, layer) };
    });
  }

  /**
   * A lazy layer's blob in `t`'s format: as the imported cache holds it when the format takes
   * it (nothing compressed again). A registry or gha export reads it only to upload it (one
   * to where it came from reads none); a local one links it from the content store, where it
   * is fetched first.
   */
  private lazyBlobOf(t: Target, chain: LazyChain, layer: LazyLayer): Promise<CacheLayer> {
    const { format } = t.spec;
    return this.once(t, layer.diffId, async () => {
      const blob = await lazyLayerBlob(this.state.content, chain, layer, format);
      if (t.spec.type === 'local' && blob.digest === layer.blob.digest) await chain.fetch(layer);
      return { blob: inLayerFlavour(blob, format.ociMediaTypes), diffId: layer.diffId, created: layer.created };
    });
  }

  private start(t: Target): void {
    if (t.started) return;
    t.started = true;
    this.emit(t, 'started');
  }

  private emit(t: Target, state: 'started' | 'done' | 'failed', error?: string): void {
    this.events({ kind: 'vertex', digest: t.digest, name: `exporting cache to ${t.where}`, state, at: Date.now(), ...(error === undefined ? {} : { error }) });
  }

  /** An export's failure, naming the cache it was for (once: a registry client's message names its ref already). */
  private exportError(t: Target, e: unknown): BuildError {
    const { spec } = t;
    const what = spec.type === 'local' ? spec.dest : spec.type === 'registry' ? spec.ref : t.where;
    if (e instanceof BuildError) {
      if (e.message.includes(what)) return e;
      return new BuildError(e.code, `cannot export the cache to ${what}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint }, { cause: e });
    }
    return new BuildError('CACHE_EXPORT', `cannot export the cache to ${what}: ${(e as Error).message}`, {}, { cause: e });
  }
}
