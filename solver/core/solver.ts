/**
 * The scheduler: computes every vertex's cache key, reuses cached results, and executes the
 * misses with independent vertices in parallel. A vertex reached twice (same digest) is
 * solved once. A failure carries the failing vertex's digest; the caller maps it back.
 */
import PQueue from 'p-queue';
import type { Digest } from '../../oci/index.js';
import { digestOf } from './digest.js';
import { boundedStep, boundedValue, explainMiss, shortDigest, type MissReason, type StepExplanation } from './explain.js';
import type { CacheStore, EventSink, ExecContext, Vertex } from './types.js';

export interface SolverOptions<R> {
  readonly cache: CacheStore<R>;
  readonly events?: EventSink;
  /** How many vertices may execute at once. */
  readonly concurrency?: number;
  /**
   * Vertices whose cached result must not be used (`--no-cache`, `--no-cache-filter`). As in
   * BuildKit, such a vertex runs again, and so does every vertex keyed on it: its key is the
   * old one, but the result behind it is new, so a record made from the old result cannot be
   * used. A vertex that keys an input by content checks the new result's content instead.
   */
  readonly ignoreCache?: (v: Vertex<R>) => boolean;
  /**
   * Called with each result a vertex's op has just made (not with cache hits), while the
   * solve goes on: for work on that result the caller will want anyway, started early.
   */
  readonly onExecuted?: (v: Vertex<R>, result: R) => void;
  /**
   * Called with every result the solve settles on and the cache key it stands under: an
   * executed vertex's and a cache hit's (not the vertices under a hit: they get no result).
   * What a cache export collects; `explain` is the key in comparable parts, for the record.
   */
  readonly onResult?: (v: Vertex<R>, key: Digest, result: R, explain: StepExplanation) => void;
}

/** An error that happened while solving a vertex. */
export class VertexError extends Error {
  override readonly name = 'VertexError';
  constructor(
    readonly vertex: Digest,
    readonly vertexName: string,
    override readonly cause: unknown,
    /** The vertex's `meta.origin`: whatever the caller needs to point back at its source. */
    readonly origin?: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** A vertex's cache key, and whether that key may be looked up (no ignored vertex under it). */
interface KeyInfo {
  readonly key: Digest;
  readonly fresh: boolean;
  readonly explain: StepExplanation;
}

export class Solver<R> {
  // By identity (see identity()): the vertex digest, unless an ignored vertex is under it.
  private readonly keys = new Map<string, Promise<KeyInfo>>();
  /** By identity: the vertex each key in `keys` is of. */
  private readonly keyed = new Map<string, Vertex<R>>();
  private readonly results = new Map<string, Promise<R>>();
  private readonly reported = new Set<string>();
  /** By identity: why each vertex that missed an imported record of it missed. */
  private readonly missed = new Map<string, readonly MissReason[]>();
  private readonly identities = new WeakMap<Vertex<R>, string>();
  private readonly queue: PQueue;
  private readonly events: EventSink;

  constructor(private readonly opts: SolverOptions<R>) {
    this.queue = new PQueue({ concurrency: opts.concurrency ?? 8 });
    this.events = opts.events ?? (() => {});
  }

  /** Cache records being written: a step's result goes on to the next step meanwhile. */
  private readonly writes = new Set<Promise<void>>();
  private writeError: { error: unknown } | undefined;

  /** Solve `target` and everything it needs; settles once every cache record is written. */
  async solve(target: Vertex<R>, signal: AbortSignal = new AbortController().signal): Promise<R> {
    let result: R;
    try {
      result = await this.result(target, signal);
    } finally {
      while (this.writes.size > 0) await Promise.all(this.writes);
    }
    if (this.writeError !== undefined) throw this.writeError.error;
    return result;
  }

  private record(key: Digest, result: R): void {
    const write = this.opts.cache.put(key, result).then(
      () => {},
      (error: unknown) => {
        this.writeError ??= { error };
      },
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  /**
   * Who a vertex is within this solve: its digest, or, when an ignored vertex is at or under
   * it, a digest of that too. A step of a `--no-cache-filter` stage is then solved apart from
   * the same step elsewhere that may use the cache (as BuildKit gives it another digest).
   */
  private identity(v: Vertex<R>): string {
    let id = this.identities.get(v);
    if (id !== undefined) return id;
    const ignored = this.opts.ignoreCache?.(v) ?? false;
    const inputs = v.inputs.map((i) => this.identity(i));
    const plain = !ignored && inputs.every((input, i) => input === v.inputs[i]!.digest);
    id = plain ? v.digest : digestOf({ vertex: v.digest, inputs, ignored });
    this.identities.set(v, id);
    return id;
  }

  /** The cache key of a vertex: its op's digest and, per input, that input's key or content. */
  async cacheKey(v: Vertex<R>, signal: AbortSignal): Promise<Digest> {
    return (await this.keyInfo(v, signal)).key;
  }

  /**
   * The vertices whose cache key the solve computed but that got no result: those under a hit
   * (the hit's key is made of theirs). A cache export records them from what the cache holds
   * under those keys. Only keys computed and usable (no ignored vertex under them); nothing
   * is computed here.
   */
  async keyedWithoutResult(): Promise<{ readonly vertex: Vertex<R>; readonly key: Digest; readonly explain: StepExplanation }[]> {
    const found = await Promise.all(
      [...this.keyed].map(async ([id, vertex]) => {
        if (this.results.has(id)) return [];
        const info = await this.keys.get(id)!.catch(() => undefined);
        return info === undefined || info.fresh ? [] : [{ vertex, key: info.key, explain: info.explain }];
      }),
    );
    return found.flat();
  }

  private keyInfo(v: Vertex<R>, signal: AbortSignal): Promise<KeyInfo> {
    const id = this.identity(v);
    let p = this.keys.get(id);
    if (p === undefined) {
      p = this.computeKey(v, signal);
      this.keys.set(id, p);
      this.keyed.set(id, v);
    }
    return p;
  }

  private async computeKey(v: Vertex<R>, signal: AbortSignal): Promise<KeyInfo> {
    signal.throwIfAborted();
    let map;
    try {
      map = await v.op.cacheMap({ signal });
    } catch (e) {
      throw this.failed(v, e);
    }
    if (map.inputs.length !== v.inputs.length) {
      throw new Error(`cache map of ${v.meta.name} has ${map.inputs.length} input rules for ${v.inputs.length} inputs`);
    }
    let fresh = this.opts.ignoreCache?.(v) ?? false;
    const parts = await Promise.all(
      map.inputs.map(async (rule, i) => {
        const input = v.inputs[i]!;
        if (rule.by === 'key') {
          const info = await this.keyInfo(input, signal);
          if (info.fresh) fresh = true;
          return { key: info.key };
        }
        return { content: await rule.checksum(await this.result(input, signal)) };
      }),
    );
    const fields = Object.fromEntries(Object.entries(map.explain?.fields ?? { op: map.opDigest }).map(([k, value]) => [k, boundedValue(value)]));
    const explain: StepExplanation = {
      step: boundedStep(v.meta.step ?? v.meta.name),
      fields,
      ...(map.explain?.files === undefined ? {} : { files: map.explain.files }),
      inputs: parts.map((p) => shortDigest(p.key ?? p.content)),
    };
    return { key: digestOf({ op: map.opDigest, inputs: parts }), fresh, explain };
  }

  /**
   * Why `v` missed, when an imported cache has a record of the same step: the differences,
   * its inputs' followed down to the step that changed first. Never fails the solve.
   */
  private async missReasons(v: Vertex<R>, now: StepExplanation): Promise<readonly MissReason[] | undefined> {
    const cache = this.opts.cache;
    if (cache.previous === undefined) return undefined;
    let before: StepExplanation | undefined;
    try {
      before = await cache.previous(now.step);
    } catch {
      return undefined;
    }
    if (before === undefined) return undefined;
    const reasons = explainMiss(before, now, {
      ...(v.meta.buildArgs === undefined ? {} : { buildArgs: v.meta.buildArgs }),
      input: (i) => {
        const input = v.inputs[i]!;
        const reasons = this.missed.get(this.identity(input));
        return { name: input.meta.name, ...(reasons === undefined ? {} : { reasons }) };
      },
    });
    this.missed.set(this.identity(v), reasons);
    return reasons;
  }

  private result(v: Vertex<R>, signal: AbortSignal): Promise<R> {
    const id = this.identity(v);
    let p = this.results.get(id);
    if (p === undefined) {
      p = this.computeResult(v, signal);
      this.results.set(id, p);
    }
    return p;
  }

  private async computeResult(v: Vertex<R>, signal: AbortSignal): Promise<R> {
    const { key, fresh, explain } = await this.keyInfo(v, signal);
    const emit = (state: 'started' | 'cached' | 'done' | 'failed', error?: string) =>
      this.events({
        kind: 'vertex',
        digest: v.digest,
        name: v.meta.name,
        state,
        at: Date.now(),
        ...(error === undefined ? {} : { error }),
        ...(v.meta.internal ? { internal: true } : {}),
      });
    if (!fresh) {
      const cached = await this.opts.cache.get(key);
      if (cached !== undefined) {
        this.reportCached(v.inputs);
        this.reported.add(this.identity(v));
        emit('cached');
        this.opts.onResult?.(v, key, cached, explain);
        return cached;
      }
    }
    const inputs = await Promise.all(v.inputs.map((i) => this.result(i, signal)));
    signal.throwIfAborted();
    const reasons = fresh ? undefined : await this.missReasons(v, explain);
    const cx: ExecContext = {
      signal,
      vertex: v.digest,
      log: (fd, data) => this.events({ kind: 'log', digest: v.digest, fd, data }),
      status: (id, current, total) =>
        this.events({ kind: 'status', digest: v.digest, id, current, ...(total === undefined ? {} : { total }) }),
    };
    const result = await this.queue.add(
      async () => {
        signal.throwIfAborted();
        emit('started');
        if (reasons !== undefined && v.meta.internal !== true) this.events({ kind: 'miss', digest: v.digest, reasons });
        try {
          const r = await v.op.execute(inputs, cx);
          emit('done');
          return r;
        } catch (e) {
          emit('failed', e instanceof Error ? e.message : String(e));
          throw this.failed(v, e);
        }
      },
      { signal },
    );
    this.record(key, result as R);
    this.opts.onExecuted?.(v, result as R);
    this.opts.onResult?.(v, key, result as R, explain);
    return result as R;
  }

  /**
   * A hit makes everything under it unnecessary: report those vertices as cached too (once
   * each), as a user expects every step of an unchanged build to say CACHED.
   */
  private reportCached(inputs: readonly Vertex<R>[]): void {
    // Inputs first, so that steps are reported in the order they would have run.
    for (const v of inputs) {
      const id = this.identity(v);
      if (this.results.has(id) || this.reported.has(id)) continue;
      this.reported.add(id);
      this.reportCached(v.inputs);
      this.events({
        kind: 'vertex',
        digest: v.digest,
        name: v.meta.name,
        state: 'cached',
        at: Date.now(),
        ...(v.meta.internal ? { internal: true } : {}),
      });
    }
  }

  /** Errors leave the solver tagged with the first vertex they failed in. */
  private failed(v: Vertex<R>, e: unknown): unknown {
    if (e instanceof VertexError || (e instanceof Error && e.name === 'AbortError')) return e;
    return new VertexError(v.digest, v.meta.name, e, v.meta.origin);
  }
}
