/**
 * Caches imported with `--cache-from`: each one a store the solver consults after the local
 * cache index. A hit is lazy: its layer chain as the records list it, nothing read. When a
 * step or an output needs its files, the chain is unpacked into snapshots the way base images
 * are (a chain already unpacked is reused through the layer records), copying only the blobs
 * of the layers still missing into the content store, verified; an output that needs only
 * blobs fetches them (or, pushed, mounts them where the cache holds them). The solver asks
 * only for the results it needs — a step that misses asks for its input's, which then hits —
 * so only the layers of those results are read.
 */
import {
  CacheRecords, ghaMayRead, openGhaCache, openLocalCache, openRegistryCache, type CacheLayer, type CacheSource, type GhaCacheMode, type GhaEndpoint,
} from '../cache/index.js';
import { BuildError } from '../errors/index.js';
import { hostPlatform } from '../frontend/index.js';
import { fetchedLayerTar } from '../exporter/index.js';
import { rememberBlobAsIs } from '../images/index.js';
import { digestOf, type CacheStore, type Digest, type EventSink, type StepExplanation } from '../solver/core/index.js';
import { chainIds, snapshotForChain, unpackImage, type ImageLayer, type Ref } from '../solver/ops/index.js';
import type { SnapshotName } from '../snapshotter/index.js';
import { credentialsFor, type PlatformSpec } from '../registry/index.js';
import { parseReference } from '../images/index.js';
import type { CacheIndex } from './cache-index.js';
import type { RegistryAccess } from './pull.js';
import type { State } from './state.js';

/** A `--cache-from` as parsed. */
/** `--cache-from type=local`: an OCI layout directory. */
export interface LocalCacheImport {
  readonly type: 'local';
  readonly src: string;
  /** The index.json tag to read (default latest). */
  readonly tag?: string;
  /** The manifest to read, instead of a tag. */
  readonly digest?: Digest;
}

/** `--cache-from type=registry`. */
export interface RegistryCacheImport {
  readonly type: 'registry';
  /** The image reference of the cache manifest (a tag or a digest). */
  readonly ref: string;
}

/** `--cache-from type=gha`. */
export interface GhaCacheImport {
  readonly type: 'gha';
  readonly scope: string;
  readonly endpoint: GhaEndpoint;
  /** `ACTIONS_CACHE_MODE`, when set. */
  readonly cacheMode?: GhaCacheMode;
}

/** A `--cache-from` as parsed. */
export type CacheImport = LocalCacheImport | RegistryCacheImport | GhaCacheImport;

/** How messages and progress name a cache source. */
function sourceOf(spec: CacheImport): string {
  switch (spec.type) {
    case 'local':
      return `local:${spec.src}`;
    case 'registry':
      return `registry:${spec.ref}`;
    case 'gha':
      return `gha:${spec.scope}`;
  }
}

/** Opens one cache where `spec` says. */
async function openCache(state: State, spec: CacheImport, access: RegistryAccess | undefined, platform: PlatformSpec): Promise<CacheSource | { readonly missing: string }> {
  if (spec.type === 'local') {
    return openLocalCache(spec.src, { ...(spec.tag === undefined ? {} : { tag: spec.tag }), ...(spec.digest === undefined ? {} : { digest: spec.digest }) });
  }
  if (spec.type === 'gha') return openGhaCache(spec.endpoint, spec.scope);
  if (access === undefined) throw new Error('internal: a registry cache import without registry access');
  const ref = parseReference(spec.ref);
  const credentials = await credentialsFor(ref.domain, access.env);
  return openRegistryCache(ref, { insecure: access.insecure, ca: access.ca, ...(credentials === undefined ? {} : { credentials }) }, state.content, platform);
}

/**
 * One imported cache as a solver store: records by key; a hit is lazy (its layer chain as the
 * records list it), read only when something needs its files or blobs.
 */
export class ImportedCache implements CacheStore<Ref> {
  private readonly pending = new Map<Digest, Promise<Ref>>();
  private readonly fetching = new Map<Digest, Promise<void>>();
  // Unpacks go one at a time: chains share their lower layers, which are then unpacked once.
  private tail: Promise<unknown> = Promise.resolve();
  /** Layer blobs copied from the cache into the content store so far. */
  layersRead = 0;

  constructor(
    private readonly state: State,
    /** The cache as imported (an export to the same place need not probe the blobs it lists). */
    readonly source: CacheSource,
    /** Reports a layer read (its digest and size). */
    private readonly onRead: (blob: CacheLayer['blob']) => void,
  ) {}

  async get(key: Digest): Promise<Ref | undefined> {
    const chain = this.source.records.get(key);
    if (chain === undefined) return undefined;
    if (chain.length === 0) return { snapshot: null };
    let p = this.pending.get(key);
    if (p === undefined && !(await this.chainAvailable(chain))) return undefined;
    p = this.pending.get(key);
    if (p === undefined) {
      p = this.hit(chain);
      this.pending.set(key, p);
    }
    return p;
  }

  /** A record whose layers the backend no longer holds all of (evicted) is a miss, not an error. */
  private async chainAvailable(chain: readonly CacheLayer[]): Promise<boolean> {
    const { available } = this.source;
    if (available === undefined) return true;
    for (const { blob } of chain) {
      if (!(await this.state.content.has(blob.digest)) && !(await available.call(this.source, blob))) return false;
    }
    return true;
  }

  async put(): Promise<void> {
    throw new Error('internal: an imported cache is read only');
  }

  private bySteps: Map<string, StepExplanation> | undefined;

  /** The explanation of a record of `step`, if the cache has one (the first by key). */
  async previous(step: string): Promise<StepExplanation | undefined> {
    if (this.bySteps === undefined) {
      this.bySteps = new Map();
      const { records } = this.source;
      if (records instanceof CacheRecords) for (const e of records.explanations.values()) if (!this.bySteps.has(e.step)) this.bySteps.set(e.step, e);
    }
    return this.bySteps.get(step);
  }

  /**
   * A hit's result: the snapshot when this state directory holds the chain already, else the
   * chain as a lazy result. A cache written without layer times is unpacked at once (the
   * image's history times come from the snapshots then).
   */
  private async hit(chain: readonly CacheLayer[]): Promise<Ref> {
    const here = await snapshotForChain(this.state, chainIds(chain.map((l) => l.diffId)).at(-1)!);
    if (here !== undefined) return { snapshot: here };
    if (chain.some((l) => l.created === undefined)) return { snapshot: await this.unpack(chain) };
    // A push of the result mounts these blobs from where the cache holds them.
    if (this.source.noteSource !== undefined) for (const { blob } of chain) await this.source.noteSource(blob);
    let unpacked: Promise<SnapshotName> | undefined;
    return {
      lazy: {
        layers: chain.map(({ blob, diffId, created }) => ({ blob, diffId, created: created! })),
        fetch: (layer) => this.fetch(layer.blob),
        unpack: () => (unpacked ??= this.unpack(chain)),
      },
    };
  }

  /** Copies a blob of the cache (a layer, a cache mount archive) into the content store (verified), once, unless it is there. */
  fetch(blob: CacheLayer['blob']): Promise<void> {
    let p = this.fetching.get(blob.digest);
    if (p === undefined) {
      p = this.copy(blob);
      this.fetching.set(blob.digest, p);
    }
    return p;
  }

  private async copy(blob: CacheLayer['blob']): Promise<void> {
    const { content } = this.state;
    if (await content.has(blob.digest)) return;
    try {
      await content.writeBlob(await this.source.open(blob), { digest: blob.digest, size: blob.size });
    } catch (e) {
      if (e instanceof BuildError) throw e;
      throw new BuildError('CACHE_IMPORT', `cannot read layer ${blob.digest} of the cache at ${this.source.where}: ${(e as Error).message}`);
    }
    this.layersRead++;
    this.onRead(blob);
  }

  /** The chain unpacked into snapshots, after the unpacks asked for before it. */
  private unpack(chain: readonly CacheLayer[]): Promise<SnapshotName> {
    const { content } = this.state;
    const layers: ImageLayer[] = chain.map(({ blob, diffId, created }) => ({
      diffId,
      ...(created === undefined ? {} : { created }),
      // Read as it arrives: the unpack overlaps the download.
      open: () => fetchedLayerTar(content, blob, this.fetch(blob)),
      fetch: () => this.fetch(blob),
      // Outputs and later exports reuse the blob instead of compressing the layer again.
      unpacked: () => rememberBlobAsIs(content, diffId, blob),
    }));
    const run = this.tail.then(async () => (await unpackImage(this.state, layers, () => {}))!);
    this.tail = run.catch(() => {});
    return run;
  }
}

/**
 * The local index first, then each imported cache in order; a result found in an import is
 * recorded in the local index too, so the next build finds it there.
 */
export function withImports(local: CacheIndex, imports: readonly CacheStore<Ref>[]): CacheStore<Ref> {
  if (imports.length === 0) return local;
  return {
    async get(key) {
      const here = await local.get(key);
      if (here !== undefined) return here;
      for (const store of imports) {
        const hit = await store.get(key);
        if (hit === undefined) continue;
        if (!('lazy' in hit)) {
          await local.put(key, hit);
          return hit;
        }
        // A lazy hit has no snapshot to record until something unpacks it.
        const { lazy } = hit;
        let unpacked: Promise<SnapshotName> | undefined;
        return {
          lazy: {
            ...lazy,
            unpack: () =>
              (unpacked ??= lazy.unpack().then(async (snapshot) => {
                await local.put(key, { snapshot });
                return snapshot;
              })),
          },
        };
      }
      return undefined;
    },
    put: (key, result) => local.put(key, result),
    async previous(step) {
      for (const store of imports) {
        const found = await store.previous?.(step);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
}

/**
 * Opens every `--cache-from`, each shown as a step (`importing cache manifest from …`, as
 * BuildKit names it) under which the layers read later report their progress. One that is not
 * there is a warning, as with BuildKit; one that is broken fails the build.
 */
export async function openCacheImports(
  state: State,
  specs: readonly CacheImport[],
  events: EventSink,
  warn: (message: string) => void,
  /** Credentials, TLS and plain-HTTP hosts, as pulls use them (type=registry). */
  access?: RegistryAccess,
  /** The build's platform: an image index's manifest to read the inline records of (type=registry). */
  platform: PlatformSpec = hostPlatform(),
): Promise<ImportedCache[]> {
  const out: ImportedCache[] = [];
  for (const spec of specs) {
    if (spec.type === 'gha' && !ghaMayRead(spec.cacheMode)) {
      warn(`importing cache from gha:${spec.scope} skipped: ACTIONS_CACHE_MODE=${spec.cacheMode} does not allow reading`);
      continue;
    }
    const name = `importing cache manifest from ${sourceOf(spec)}`;
    // A gha spec holds the token: its digest names the scope only.
    const digest = digestOf({ cacheImport: spec.type === 'gha' ? `gha:${spec.scope}` : spec });
    const emit = (state: 'started' | 'done' | 'failed', error?: string) =>
      events({ kind: 'vertex', digest, name, state, at: Date.now(), ...(error === undefined ? {} : { error }) });
    emit('started');
    let source;
    try {
      source = await openCache(state, spec, access, platform);
    } catch (e) {
      emit('failed', (e as Error).message);
      // As BuildKit does: a cache that cannot be read (unreachable, refused, corrupt) gives no
      // hits, and the build goes on without it. Anything else is a fault of tsbuild's own.
      if (!(e instanceof BuildError)) throw e;
      warn(`importing cache from ${sourceOf(spec)} failed, building without it: ${e.message}`);
      continue;
    }
    emit('done');
    if ('missing' in source) {
      warn(source.missing);
      continue;
    }
    out.push(
      new ImportedCache(state, source, (blob) => events({ kind: 'status', digest, id: `reading layer ${blob.digest}`, current: blob.size, total: blob.size })),
    );
  }
  return out;
}
