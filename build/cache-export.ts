/**
 * `--cache-to`: the records of a solved build (each step's cache key → its result's layer
 * chain) written after the solve and the image outputs. mode=min keeps the steps whose
 * snapshots are the image's layers, mode=max every step that has a result in this build
 * (executed or hit; the steps under a hit have none). Layer blobs are the ones the outputs
 * use, made once per layer and format (the layer memo): a blob that exists, pulled or
 * imported, is never compressed again.
 */
import { encodeCache, ghaMayWrite, writeGhaCache, writeLocalCache, type CacheLayer, type CacheRecord, type GhaCacheMode, type GhaEndpoint } from '../cache/index.js';
import { BuildError } from '../errors/index.js';
import { exportLayer, type LayerFormat } from '../exporter/index.js';
import { convertLayerMediaType } from '../oci/index.js';
import { digestOf, type Digest, type EventSink } from '../solver/core/index.js';
import { layerCreated, layersOf, openSnapshotTar, type Layer, type Ref } from '../solver/ops/index.js';
import type { State } from './state.js';

/** A `--cache-to` as parsed. */
export type CacheExport = LocalCacheExport | GhaCacheExport;

export type LocalCacheExport = {
  readonly type: 'local';
  readonly dest: string;
  /** The index.json tag to write (default latest). */
  readonly tag?: string;
  readonly mode: 'min' | 'max';
  readonly format: LayerFormat;
  /** A failed export is a warning instead of the build's failure. */
  readonly ignoreError: boolean;
};

/** `--cache-to type=gha`: the GitHub Actions cache service. */
export type GhaCacheExport = {
  readonly type: 'gha';
  readonly scope: string;
  readonly endpoint: GhaEndpoint;
  /** `ACTIONS_CACHE_MODE`, when set. */
  readonly cacheMode?: GhaCacheMode;
  readonly mode: 'min' | 'max';
  readonly format: LayerFormat;
  readonly ignoreError: boolean;
};

/** A step's result under its cache key. */
export interface SolvedStep {
  readonly key: Digest;
  readonly ref: Ref;
}

/** What a solve hands the cache export. */
export interface CacheResults {
  /** Every step with a result, executed or hit (mode=max). */
  readonly all: readonly SolvedStep[];
  /** The steps along the target's chain of roots that have one (mode=min). */
  readonly chain: readonly SolvedStep[];
}

/**
 * Writes each cache in turn. A failure with `ignore-error` is a warning; without it, the
 * first such failure is returned (after the other caches are written), for the caller to
 * fail the build with once the image outputs are done.
 */
export async function exportCaches(
  state: State,
  results: CacheResults,
  specs: readonly CacheExport[],
  events: EventSink,
  warn: (message: string) => void,
): Promise<BuildError | undefined> {
  let failure: BuildError | undefined;
  for (const spec of specs) {
    if (spec.type === 'gha' && !ghaMayWrite(spec.cacheMode)) {
      warn(`exporting cache to gha:${spec.scope} skipped: ACTIONS_CACHE_MODE=${spec.cacheMode} does not allow writing`);
      continue;
    }
    const name = spec.type === 'gha' ? `exporting cache to gha:${spec.scope}` : `exporting cache to local:${spec.dest}`;
    const digest = digestOf(spec.type === 'gha' ? { cacheExport: `gha:${spec.scope}` } : { cacheExport: spec.dest, tag: spec.tag ?? null });
    const emit = (s: 'started' | 'done' | 'failed', error?: string) =>
      events({ kind: 'vertex', digest, name, state: s, at: Date.now(), ...(error === undefined ? {} : { error }) });
    emit('started');
    try {
      const records = await cacheRecords(state, spec.mode === 'max' ? results.all : results.chain, spec.format);
      if (spec.type === 'gha') {
        const r = await writeGhaCache(spec.endpoint, spec.scope, encodeCache(records), (d) => state.content.blobPath(d));
        events({ kind: 'status', digest, id: `requests (${r.uploaded} layers uploaded, ${r.skipped} already there)`, current: r.requests });
        // A token that may not write (a pull request's) is no failure of the build, as BuildKit.
        if (r.denied !== undefined) warn(`exporting cache to gha:${spec.scope} skipped: ${r.denied}`);
      } else {
        await writeLocalCache(spec.dest, encodeCache(records), state.content, spec.tag === undefined ? {} : { tag: spec.tag });
      }
      emit('done');
    } catch (e) {
      const error = e instanceof BuildError ? e : new BuildError('CACHE_EXPORT', `cannot export the cache to ${spec.type === 'gha' ? `gha:${spec.scope}` : spec.dest}: ${(e as Error).message}`, {}, { cause: e });
      emit('failed', error.message);
      if (spec.ignoreError) warn(`${error.message} (ignored: ignore-error=true)`);
      else failure ??= error;
    }
  }
  return failure;
}

/** The records of `steps`, their layers as blobs in `format`. */
async function cacheRecords(state: State, steps: readonly SolvedStep[], format: LayerFormat): Promise<CacheRecord[]> {
  const blobs = new Map<string, Promise<CacheLayer>>();
  const blobOf = (layer: Layer): Promise<CacheLayer> => {
    let p = blobs.get(layer.diffId);
    if (p === undefined) {
      p = (async () => {
        const { blob, diffId } = await exportLayer(state.content, layer.diffId, format, () => openSnapshotTar(state, layer.snapshot));
        return {
          blob: { ...blob, mediaType: convertLayerMediaType(blob.mediaType, format.ociMediaTypes) ?? blob.mediaType },
          diffId,
          created: await layerCreated(state, layer),
        };
      })();
      blobs.set(layer.diffId, p);
    }
    return p;
  };
  return Promise.all(
    steps.map(async ({ key, ref }) => ({ key, chain: ref.snapshot === null ? [] : await Promise.all((await layersOf(state, ref.snapshot)).map(blobOf)) })),
  );
}
