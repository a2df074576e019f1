/**
 * The solve of a build's graph: which steps run without their cache (--no-cache,
 * --no-cache-filter), the cache index the solver consults, layer facts computed as the target's
 * snapshots are committed, and the build's isolated networks started early or closed after.
 */
import type { CacheStore, Digest, EventSink, Vertex } from '../solver/core/index.js';
import { Solver } from '../solver/core/index.js';
import type { NetworkPool } from '../executor/index.js';
import type { BuildGraph } from '../frontend/index.js';
import { dropCacheMounts, ExecOp, layerOf, OnPlatform, type GraphResolver, type Ref } from '../solver/ops/index.js';
import { CacheIndex, recordSnapshotUse } from './cache-index.js';
import type { CacheResults, RecordedStep, SolvedStep } from './cache-export.js';
import { withImports, type ImportedCache } from './cache-import.js';
import type { State } from './state.js';
import type { SnapshotName } from '../snapshotter/index.js';
import type { StatCaches } from './stat-caches.js';
import { stepError } from './step-error.js';

export interface SolveOptions {
  readonly noCache: boolean;
  /** Stage names whose RUN/COPY/ADD steps run without their cache. */
  readonly noCacheFilter: readonly string[];
  readonly events: EventSink;
  readonly signal: AbortSignal;
  /** Imported caches (--cache-from), consulted in order after the local index. */
  readonly imports: readonly ImportedCache[];
  /** Each result the solve settles on, as it does (a cache export uploads its layers meanwhile); `onChain`: on the target's chain of roots. */
  readonly onStep?: (step: SolvedStep, onChain: boolean) => void;
  /** Told the cache mounts of the steps run without their cache: they are not restored. */
  readonly mountArchives?: { skip(ids: Iterable<string>): void };
}

export interface Solved {
  readonly top: Ref;
  /** Every step's result under its key, for a cache export. */
  readonly cache: CacheResults;
  /** Resolves once the networks' processes have exited (BuiltImage.exited); never rejects. */
  readonly exited: Promise<void>;
}

export async function solveTarget(graph: BuildGraph, vertices: GraphResolver, networks: NetworkPool, state: State, statCaches: StatCaches, opts: SolveOptions): Promise<Solved> {
  // --no-cache-filter: the RUN/COPY/ADD steps of the named stages (names compared without
  // case, as BuildKit does); the solver runs their dependents again too.
  const noCacheStages = new Set(opts.noCacheFilter.map((s) => s.toLowerCase()));
  const ignored = new Set<Vertex<Ref>>();
  for (const g of graph.stages.values()) {
    if (g.stage.name !== undefined && noCacheStages.has(g.stage.name.toLowerCase())) for (const n of g.cacheableSteps) ignored.add(vertices.vertex(n));
  }
  // The image's layers are the snapshots made along the target's chain of roots: each one's
  // diff id is computed as soon as it is committed, beside the steps that follow.
  const top = vertices.vertex(graph.target.top);
  const targetChain = new Set(rootChain(top));
  const ignoreCache = (v: Vertex<Ref>) => opts.noCache || ignored.has(v);
  // A RUN on the isolated network that runs whatever the cache holds: its network starts now,
  // beside the work before it. Otherwise the first step that needs one starts it, so that a
  // build whose steps all come from the cache starts none.
  const uncached = uncachedRuns(top, ignoreCache);
  if (uncached.some((op) => op.network === 'default')) networks.prepare();
  // As BuildKit does, the cache mounts of the steps run without their cache start empty.
  await dropCacheMounts(state.cacheMountsDir, uncached.flatMap((op) => op.cacheMountIds()));
  opts.mountArchives?.skip(uncached.flatMap((op) => op.cacheMountIds()));
  const used = new Set<SnapshotName>();
  const results = new Map<Vertex<Ref>, SolvedStep>();
  const store = withImports(new CacheIndex(state.cacheDir, state.snapshots, used), opts.imports);
  const solver = new Solver<Ref>({
    cache: store,
    onResult: (v, key, ref, explain) => {
      results.set(v, { key, ref, explain });
      opts.onStep?.({ key, ref, explain }, targetChain.has(v));
    },
    events: opts.events,
    ignoreCache,
    onExecuted: (v, ref) => {
      // An executed result is a snapshot (only an imported cache's hits are lazy).
      const snapshot = 'lazy' in ref ? null : ref.snapshot;
      if (snapshot === null || !targetChain.has(v)) return;
      // After the promise jobs that start the next step: its process runs while this hashes.
      setImmediate(() => layerOf(state, snapshot).catch(() => {}));
    },
  });
  // After a build that succeeded, the networks' teardown overlaps the work after the solve
  // and the caller's outputs (BuiltImage.exited); a failed build waits for it before throwing.
  try {
    const result = await solver.solve(top, opts.signal);
    let recorded: Promise<RecordedStep[]> | undefined;
    const cache: CacheResults = {
      all: [...results.values()],
      chain: [...targetChain].flatMap((v) => results.get(v) ?? []),
      recorded: () => (recorded ??= recordedSteps(solver, store, results, targetChain)),
    };
    return { top: result, cache, exited: networks.close() };
  } catch (e) {
    await networks.close();
    throw stepError(e);
  } finally {
    await statCaches.saveAll();
    // Best effort: without a record, pruning takes a snapshot's creation as its last use.
    await recordSnapshotUse(state.snapshotUseDir, state.snapshots, used).catch(() => {});
  }
}

/**
 * The steps under a hit, which the solve keyed but left without a result, each with what the
 * cache (the local index, then the imports) holds under its key: an import's hit is lazy,
 * nothing read. A cache export records them too, so that a build from the cache writes the
 * whole cache it read, not only the steps it settled on.
 */
async function recordedSteps(solver: Solver<Ref>, store: CacheStore<Ref>, results: ReadonlyMap<Vertex<Ref>, SolvedStep>, targetChain: ReadonlySet<Vertex<Ref>>): Promise<RecordedStep[]> {
  const solved = new Set([...results.values()].map((s) => s.key));
  const byKey = new Map<Digest, RecordedStep>();
  const found = await Promise.all(
    (await solver.keyedWithoutResult()).map(async ({ vertex, key, explain }) => {
      if (solved.has(key)) return undefined;
      const ref = await store.get(key);
      return ref === undefined ? undefined : { key, ref, explain, onChain: targetChain.has(vertex) };
    }),
  );
  for (const step of found) {
    if (step === undefined) continue;
    // The same step in two places (two stages from one base): on the chain if either is.
    const seen = byKey.get(step.key);
    byKey.set(step.key, seen === undefined ? step : { ...seen, onChain: seen.onChain || step.onChain });
  }
  return [...byKey.values()];
}

/** The RUN steps below `top` whose cache is ignored: they run whatever the cache holds. */
function uncachedRuns(top: Vertex<Ref>, ignored: (v: Vertex<Ref>) => boolean): ExecOp[] {
  const runs: ExecOp[] = [];
  const seen = new Set<Vertex<Ref>>();
  const visit = (v: Vertex<Ref>): void => {
    if (seen.has(v)) return;
    seen.add(v);
    const op = v.op instanceof OnPlatform ? v.op.op : v.op;
    if (op instanceof ExecOp && ignored(v)) runs.push(op);
    v.inputs.forEach(visit);
  };
  visit(top);
  return runs;
}

/** `top` and the roots it builds on, down through each step's first input: a stage's chain, then its base's. */
function* rootChain(top: Vertex<Ref>): Generator<Vertex<Ref>> {
  for (let t: Vertex<Ref> | undefined = top; t !== undefined; t = t.inputs[0]) yield t;
}
