/**
 * The scheduler: computes every vertex's cache key, reuses cached results, and executes the
 * misses with independent vertices in parallel. A vertex reached twice (same digest) is
 * solved once. A failure carries the failing vertex's digest; the caller maps it back.
 */
import PQueue from 'p-queue';
import { digestOf, type Digest } from './digest.js';
import type { CacheStore, EventSink, ExecContext, Vertex } from './types.js';

export interface SolverOptions<R> {
  readonly cache: CacheStore<R>;
  readonly events?: EventSink;
  /** How many vertices may execute at once. */
  readonly concurrency?: number;
  /** Vertices whose cached result must not be used (`--no-cache`, `--no-cache-filter`). */
  readonly ignoreCache?: (v: Vertex<R>) => boolean;
  /**
   * Called with each result a vertex's op has just made (not with cache hits), while the
   * solve goes on: for work on that result the caller will want anyway, started early.
   */
  readonly onExecuted?: (v: Vertex<R>, result: R) => void;
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

export class Solver<R> {
  private readonly keys = new Map<Digest, Promise<Digest>>();
  private readonly results = new Map<Digest, Promise<R>>();
  private readonly reported = new Set<Digest>();
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

  /** The cache key of a vertex: its op's digest and, per input, that input's key or content. */
  cacheKey(v: Vertex<R>, signal: AbortSignal): Promise<Digest> {
    let p = this.keys.get(v.digest);
    if (p === undefined) {
      p = this.computeKey(v, signal);
      this.keys.set(v.digest, p);
    }
    return p;
  }

  private async computeKey(v: Vertex<R>, signal: AbortSignal): Promise<Digest> {
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
    const parts = await Promise.all(
      map.inputs.map(async (rule, i) => {
        const input = v.inputs[i]!;
        if (rule.by === 'key') return { key: await this.cacheKey(input, signal) };
        return { content: await rule.checksum(await this.result(input, signal)) };
      }),
    );
    return digestOf({ op: map.opDigest, inputs: parts });
  }

  private result(v: Vertex<R>, signal: AbortSignal): Promise<R> {
    let p = this.results.get(v.digest);
    if (p === undefined) {
      p = this.computeResult(v, signal);
      this.results.set(v.digest, p);
    }
    return p;
  }

  private async computeResult(v: Vertex<R>, signal: AbortSignal): Promise<R> {
    const key = await this.cacheKey(v, signal);
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
    if (!(this.opts.ignoreCache?.(v) ?? false)) {
      const cached = await this.opts.cache.get(key);
      if (cached !== undefined) {
        this.reportCached(v.inputs);
        this.reported.add(v.digest);
        emit('cached');
        return cached;
      }
    }
    const inputs = await Promise.all(v.inputs.map((i) => this.result(i, signal)));
    signal.throwIfAborted();
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
    return result as R;
  }

  /**
   * A hit makes everything under it unnecessary: report those vertices as cached too (once
   * each), as a user expects every step of an unchanged build to say CACHED.
   */
  private reportCached(inputs: readonly Vertex<R>[]): void {
    // Inputs first, so that steps are reported in the order they would have run.
    for (const v of inputs) {
      if (this.results.has(v.digest) || this.reported.has(v.digest)) continue;
      this.reported.add(v.digest);
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
