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
import { digestOf, type Digest, type EventSink } from '../solver/core/index.js';
import { layerCreated, layersOf, openSnapshotTar, type Layer, type Ref } from '../solver/ops/index.js';
import { parseReference } from '../images/index.js';
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

/** Writes one encoded cache where `spec` says. */
async function writeCache(
  state: State,
  spec: CacheExport,
  cache: EncodedCache,
  access: RegistryAccess | undefined,
  status: (id: string, current: number) => void,
  warn: (message: string) => void,
): Promise<void> {
  switch (spec.type) {
    case 'local':
      await writeLocalCache(spec.dest, cache, state.content, spec.tag === undefined ? {} : { tag: spec.tag });
      return;
    case 'registry': {
      if (access === undefined) throw new Error('internal: a registry cache export without registry access');
      const ref = parseReference(spec.ref);
      await writeRegistryCache(ref, cache, state.content, await pushOptionsFor(ref.domain, access, state.content));
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
}

/** What a solve hands the cache export. */
export interface CacheResults {
  /** Every step with a result, executed or hit (mode=max). */
  readonly all: readonly SolvedStep[];
  /** The steps along the target's chain of roots that have one (mode=min). */
  readonly chain: readonly SolvedStep[];
  /** The build's cache mounts, for `mounts=`. */
  readonly mounts?: CacheMountExporter;
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
      const records = await cacheRecords(state, spec.mode === 'max' ? results.all : results.chain, spec.format);
      const mounts = spec.mounts === undefined || results.mounts === undefined ? [] : await results.mounts.archives(spec.mounts, spec.format, where, warn);
      await writeCache(state, spec, encodeCache(records, mounts), access, (id, current) => events({ kind: 'status', digest, id, current }), warn);
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
  return Promise.all(
    steps.map(async ({ key, ref }) => ({ key, chain: ref.snapshot === null ? [] : await Promise.all((await layersOf(state, ref.snapshot)).map(blobOf)) })),
  );
}
