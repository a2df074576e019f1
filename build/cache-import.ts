/**
 * Caches imported with `--cache-from`: each one a store the solver consults after the local
 * cache index. A hit unpacks the result's layer chain into snapshots the way base images are
 * unpacked (a chain already unpacked is reused through the layer records), copying only the
 * blobs of the layers still missing into the content store, verified. The solver asks only
 * for the results it needs — a step that misses asks for its input's, which then hits — so
 * only the layers of those results are read.
 */
import {
  ghaMayRead, openGhaCache, openLocalCache, openRegistryCache, type CacheLayer, type CacheSource, type GhaCacheMode, type GhaEndpoint,
} from '../cache/index.js';
import { BuildError } from '../errors/index.js';
import { openLayerTar } from '../exporter/index.js';
import { rememberBlobAsIs } from '../images/index.js';
import { digestOf, type CacheStore, type Digest, type EventSink } from '../solver/core/index.js';
import { unpackImage, type ImageLayer, type Ref } from '../solver/ops/index.js';
import { credentialsFor } from '../registry/index.js';
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
async function openCache(state: State, spec: CacheImport, access: RegistryAccess | undefined): Promise<CacheSource | { readonly missing: string }> {
  if (spec.type === 'local') {
    return openLocalCache(spec.src, { ...(spec.tag === undefined ? {} : { tag: spec.tag }), ...(spec.digest === undefined ? {} : { digest: spec.digest }) });
  }
  if (spec.type === 'gha') return openGhaCache(spec.endpoint, spec.scope);
  if (access === undefined) throw new Error('internal: a registry cache import without registry access');
  const ref = parseReference(spec.ref);
  const credentials = await credentialsFor(ref.domain, access.env);
  return openRegistryCache(ref, { insecure: access.insecure, ca: access.ca, ...(credentials === undefined ? {} : { credentials }) }, state.content);
}

/** One imported cache as a solver store: records by key, layers read when a hit needs them. */
export class ImportedCache implements CacheStore<Ref> {
  private readonly pending = new Map<Digest, Promise<Ref>>();
  // Unpacks go one at a time: chains share their lower layers, which are then unpacked once.
  private tail: Promise<unknown> = Promise.resolve();
  /** Layer blobs copied from the cache into the content store so far. */
  layersRead = 0;

  constructor(
    private readonly state: State,
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
      const run = this.tail.then(() => this.unpack(chain));
      this.tail = run.catch(() => {});
      p = run;
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

  /**
   * A blob of the cache (a cache mount archive) into the content store, verified, unless it is
   * there already; read and reported as unpack's layers are (kept apart so the layer path stays
   * as it is).
   */
  async fetch(blob: CacheLayer['blob']): Promise<void> {
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

  private async unpack(chain: readonly CacheLayer[]): Promise<Ref> {
    const { content } = this.state;
    const layers: ImageLayer[] = chain.map(({ blob, diffId, created }) => ({
      diffId,
      ...(created === undefined ? {} : { created }),
      open: async () => {
        if (!(await content.has(blob.digest))) {
          try {
            await content.writeBlob(await this.source.open(blob), { digest: blob.digest, size: blob.size });
          } catch (e) {
            if (e instanceof BuildError) throw e;
            throw new BuildError('CACHE_IMPORT', `cannot read layer ${blob.digest} of the cache at ${this.source.where}: ${(e as Error).message}`);
          }
          this.layersRead++;
          this.onRead(blob);
        }
        return openLayerTar(content, blob);
      },
      // Outputs and later exports reuse the blob instead of compressing the layer again.
      unpacked: () => rememberBlobAsIs(content, diffId, blob),
    }));
    return { snapshot: await unpackImage(this.state, layers, () => {}) };
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
        if (hit !== undefined) {
          await local.put(key, hit);
          return hit;
        }
      }
      return undefined;
    },
    put: (key, result) => local.put(key, result),
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
      source = await openCache(state, spec, access);
    } catch (e) {
      emit('failed', (e as Error).message);
      throw e;
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
