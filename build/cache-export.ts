/**
 * `--cache-to`: the records of a solved build (each step's cache key → its result's layer
 * chain) written after the solve and the image outputs. mode=min keeps the steps whose
 * snapshots are the image's layers, mode=max every step that has a result in this build
 * (executed or hit; the steps under a hit have none). Layer blobs are the ones the outputs
 * use, made once per layer and format (the layer memo): a blob that exists, pulled or
 * imported, is never compressed again.
 */
import {
  encodeCache, ghaMayWrite, writeGhaCache, writeLocalCache, writeRegistryCache,
  type CacheLayer, type CacheRecord, type EncodedCache, type GhaCacheMode, type GhaEndpoint,
} from '../cache/index.js';
import { BuildError } from '../errors/index.js';
import { exportLayer, type LayerFormat } from '../exporter/index.js';
import { convertLayerMediaType } from '../oci/index.js';
import { digestOf, type Digest, type EventSink, type StepExplanation } from '../solver/core/index.js';
import { layerCreated, layersOf, openSnapshotTar, type Layer, type LazyChain, type LazyLayer, type Ref } from '../solver/ops/index.js';
import { fetchingProvider, lazyLayerBlob } from './lazy-layers.js';
import { parseReference } from '../images/index.js';
import type { RegistryAccess } from './pull.js';
import { pushOptionsFor } from './push.js';
import type { State } from './state.js';

/** What every `--cache-to` has, whatever its backend. */
interface CacheExportCommon {
  readonly mode: 'min' | 'max';
  readonly format: LayerFormat;
  /** A failed export is a warning instead of the build's failure. */
  readonly ignoreError: boolean;
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

/** Writes one encoded cache where `spec` says. */
async function writeCache(
  state: State,
  spec: CacheExport,
  cache: EncodedCache,
  access: RegistryAccess | undefined,
  status: (id: string, current: number) => void,
  warn: (message: string) => void,
  /** Imported hits not unpacked, whose blobs may not be in the content store yet. */
  lazy: readonly LazyChain[] = [],
): Promise<void> {
  // A registry push reads only the blobs it uploads (the others are there or mounted); the
  // other backends copy blobs from the content store: the lazy ones are fetched first.
  const cached = new Set(cache.layers.map((l) => l.digest));
  if (spec.type !== 'registry') for (const chain of lazy) for (const l of chain.layers) if (cached.has(l.blob.digest)) await chain.fetch(l);
  switch (spec.type) {
    case 'local':
      await writeLocalCache(spec.dest, cache, state.content, spec.tag === undefined ? {} : { tag: spec.tag });
      return;
    case 'registry': {
      if (access === undefined) throw new Error('internal: a registry cache export without registry access');
      const ref = parseReference(spec.ref);
      await writeRegistryCache(ref, cache, fetchingProvider(state.content, lazy), await pushOptionsFor(ref.domain, access, state.content));
      return;
    }
    case 'gha': {
      const r = await writeGhaCache(spec.endpoint, spec.scope, cache, (d) => state.content.blobPath(d));
      status(`requests (${r.uploaded} layers uploaded, ${r.skipped} already there)`, r.requests);
      // A token that may not write (a pull request's) is no failure of the build, as BuildKit.
      if (r.denied !== undefined) warn(`exporting cache to gha:${spec.scope} skipped: ${r.denied}`);
      return;
    }
  }
}

/** A step's result under its cache key. */
export interface SolvedStep {
  readonly key: Digest;
  readonly ref: Ref;
  /** The key in comparable parts, written with the record (why a later build missed it). */
  readonly explain?: StepExplanation;
}

/** What a solve hands the cache export. */
export interface CacheResults {
  /** Every step with a result, executed or hit (mode=max). */
  readonly all: readonly SolvedStep[];
  /** The steps along the target's chain of roots that have one (mode=min). */
  readonly chain: readonly SolvedStep[];
  /**
   * The other steps along that chain (under a hit: the solve needed their keys, not their
   * results), each with the layers its record in the local index or an import names; looked
   * up only when asked (the inline cache records every step of the image).
   */
  readonly unsolvedChain?: () => Promise<readonly { readonly key: Digest; readonly diffIds: readonly Digest[] }[]>;
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
  /** Credentials, TLS and plain-HTTP hosts, as pushes use them (type=registry). */
  access?: RegistryAccess,
): Promise<BuildError | undefined> {
  let failure: BuildError | undefined;
  for (const spec of specs) {
    if (spec.type === 'gha' && !ghaMayWrite(spec.cacheMode)) {
      warn(`exporting cache to gha:${spec.scope} skipped: ACTIONS_CACHE_MODE=${spec.cacheMode} does not allow writing`);
      continue;
    }
    const where = destinationOf(spec);
    const name = `exporting cache to ${where}`;
    const digest = digestOf(spec.type === 'local' ? { cacheExport: spec.dest, tag: spec.tag ?? null } : { cacheExport: where });
    const emit = (s: 'started' | 'done' | 'failed', error?: string) =>
      events({ kind: 'vertex', digest, name, state: s, at: Date.now(), ...(error === undefined ? {} : { error }) });
    emit('started');
    try {
      const steps = spec.mode === 'max' ? results.all : results.chain;
      const records = await cacheRecords(state, steps, spec.format);
      await writeCache(state, spec, encodeCache(records), access, (id, current) => events({ kind: 'status', digest, id, current }), warn, lazyChains(steps));
      emit('done');
    } catch (e) {
      const error = e instanceof BuildError ? e : new BuildError('CACHE_EXPORT', `cannot export the cache to ${spec.type === 'local' ? spec.dest : spec.type === 'registry' ? spec.ref : where}: ${(e as Error).message}`, {}, { cause: e });
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
  // A lazy result (an imported hit nothing unpacked) keeps its blobs: nothing to compress.
  const lazyOf = (chain: LazyChain, layer: LazyLayer): Promise<CacheLayer> => {
    let p = blobs.get(layer.diffId);
    if (p === undefined) {
      p = (async () => {
        const blob = await lazyLayerBlob(state.content, chain, layer, format);
        return { blob: { ...blob, mediaType: convertLayerMediaType(blob.mediaType, format.ociMediaTypes) ?? blob.mediaType }, diffId: layer.diffId, created: layer.created };
      })();
      blobs.set(layer.diffId, p);
    }
    return p;
  };
  return Promise.all(
    steps.map(async ({ key, ref, explain }) => ({
      key,
      chain:
        'lazy' in ref
          ? await Promise.all(ref.lazy.layers.map((l) => lazyOf(ref.lazy, l)))
          : ref.snapshot === null
            ? []
            : await Promise.all((await layersOf(state, ref.snapshot)).map(blobOf)),
      ...(explain === undefined ? {} : { explain }),
    })),
  );
}

/** The lazy chains among `steps`: their blobs are fetched only when an export must read them. */
function lazyChains(steps: readonly SolvedStep[]): LazyChain[] {
  return steps.flatMap(({ ref }) => ('lazy' in ref ? [ref.lazy] : []));
}
