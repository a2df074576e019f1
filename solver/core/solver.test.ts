// The scheduler on fake ops that only carry a key seed and a delay (no disks, no processes).
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../oci/index.js';
import { sha256 } from './digest.js';
import { vertex } from './graph.js';
import { Solver, VertexError } from './solver.js';
import type { KeyParts, StepExplanation } from './explain.js';
import type { CacheStore, Op, SolveEvent, Vertex } from './types.js';

type R = string;

class MemoryCache implements CacheStore<R> {
  readonly map = new Map<Digest, R>();
  async get(key: Digest) {
    return this.map.get(key);
  }
  async put(key: Digest, r: R) {
    this.map.set(key, r);
  }
}

interface Log {
  executed: string[];
  running: number;
  maxRunning: number;
}

function fake(seed: string, log: Log, opts: { delay?: number; fail?: boolean; content?: boolean; keySeed?: string } = {}): Op<R> {
  return {
    spec: { seed },
    async cacheMap() {
      return {
        opDigest: sha256(opts.keySeed ?? seed),
        inputs: [],
      };
    },
    async execute(inputs, cx) {
      log.executed.push(seed);
      log.running++;
      log.maxRunning = Math.max(log.maxRunning, log.running);
      cx.log(1, new TextEncoder().encode(`${seed} ran\n`));
      await new Promise((r) => setTimeout(r, opts.delay ?? 5));
      log.running--;
      if (opts.fail) throw new Error(`${seed} failed`);
      return `${seed}(${inputs.join(',')})`;
    },
  };
}

function withInputs(op: Op<R>, n: number, content?: (r: R) => string): Op<R> {
  return {
    ...op,
    async cacheMap(cx) {
      const m = await op.cacheMap(cx);
      return {
        ...m,
        inputs: Array.from({ length: n }, () =>
          content === undefined ? { by: 'key' as const } : { by: 'content' as const, checksum: async (r: R) => content(r) },
        ),
      };
    },
  };
}

const newLog = (): Log => ({ executed: [], running: 0, maxRunning: 0 });

describe('Solver', () => {
  it('runs independent vertices in parallel and their dependant after both', async () => {
    const log = newLog();
    const a = vertex(fake('a', log, { delay: 40 }), [], { name: 'a' });
    const b = vertex(fake('b', log, { delay: 40 }), [], { name: 'b' });
    const c = vertex(withInputs(fake('c', log), 2), [a, b], { name: 'c' });
    const r = await new Solver({ cache: new MemoryCache() }).solve(c);
    expect(r).toBe('c(a(),b())');
    expect(log.maxRunning).toBe(2);
    expect(log.executed.at(-1)).toBe('c');
  });

  it('solves a vertex reached twice once', async () => {
    const log = newLog();
    const shared = vertex(fake('s', log), [], { name: 's' });
    const shared2 = vertex(fake('s', log), [], { name: 'another name, same op' });
    expect(shared2.digest).toBe(shared.digest);
    const top = vertex(withInputs(fake('t', log), 2), [shared, shared2], { name: 't' });
    await new Solver({ cache: new MemoryCache() }).solve(top);
    expect(log.executed.filter((x) => x === 's')).toHaveLength(1);
  });

  it('reuses cached results on a second solve and reports them as cached', async () => {
    const cache = new MemoryCache();
    const build = (log: Log) => {
      const a = vertex(fake('a', log), [], { name: 'a' });
      return vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
    };
    await new Solver({ cache }).solve(build(newLog()));
    const log = newLog();
    const events: SolveEvent[] = [];
    const r = await new Solver({ cache, events: (e) => events.push(e) }).solve(build(log));
    expect(r).toBe('b(a())');
    expect(log.executed).toEqual([]);
    // The top hit means the input is never even looked at, yet it is reported as cached.
    expect(events.filter((e) => e.kind === 'vertex').map((e) => e.kind === 'vertex' && [e.name, e.state])).toEqual([
      ['a', 'cached'],
      ['b', 'cached'],
    ]);
  });

  it('hands each executed result to onExecuted as it is made, and no cache hit', async () => {
    const cache = new MemoryCache();
    const build = (log: Log, seed: string) => {
      const a = vertex(fake('a', log), [], { name: 'a' });
      return vertex(withInputs(fake('b', log, { keySeed: seed }), 1), [a], { name: 'b' });
    };
    const seen = (seed: string) => {
      const out: string[] = [];
      return { out, solving: new Solver<R>({ cache, onExecuted: (v, r) => out.push(`${v.meta.name}=${r}`) }).solve(build(newLog(), seed)) };
    };
    const first = seen('v1');
    expect(await first.solving).toBe('b(a())');
    expect(first.out).toEqual(['a=a()', 'b=b(a())']);
    const second = seen('v2'); // a is a cache hit, b runs again
    await second.solving;
    expect(second.out).toEqual(['b=b(a())']);
  });

  it('hands onResult every result with its key: executed ones and hits, none under a hit', async () => {
    const cache = new MemoryCache();
    const build = (seed: string) => {
      const log = newLog();
      const a = vertex(fake('a', log), [], { name: 'a' });
      const b = vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
      return vertex(withInputs(fake('c', log, { keySeed: seed }), 1), [b], { name: 'c' });
    };
    const collect = async (seed: string) => {
      const out = new Map<string, { key: Digest; result: R }>();
      const solver = new Solver<R>({ cache, onResult: (v, key, result) => out.set(v.meta.name, { key, result }) });
      const top = build(seed);
      await solver.solve(top);
      // The keys handed over are the solver's own.
      for (const v of [top, top.inputs[0]!]) if (out.has(v.meta.name)) expect(out.get(v.meta.name)!.key).toBe(await solver.cacheKey(v, new AbortController().signal));
      return out;
    };
    const first = await collect('v1');
    expect([...first.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(first.get('c')!.result).toBe('c(b(a()))');
    // c's key changes: b is a hit (handed over), a is under it (not).
    const second = await collect('v2');
    expect([...second.keys()].sort()).toEqual(['b', 'c']);
    expect(second.get('b')).toEqual(first.get('b'));
  });

  it('lists the vertices it keyed under a hit, with their keys, and none it solved or did not key', async () => {
    const cache = new MemoryCache();
    const build = () => {
      const log = newLog();
      const a = vertex(fake('a', log), [], { name: 'a' });
      const b = vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
      // c keys b by key; d keys c by content, so c is solved (a hit) to key d.
      const c = vertex(withInputs(fake('c', log), 1), [b], { name: 'c' });
      return vertex(withInputs(fake('d', log), 1, (r) => r), [c], { name: 'd' });
    };
    const keys = new Map<string, Digest>();
    await new Solver<R>({ cache, onResult: (v, key) => keys.set(v.meta.name, key) }).solve(build());
    expect([...keys.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    const solver = new Solver<R>({ cache });
    await solver.solve(build());
    // d hits; its key needed c's result (a hit), whose key needed b's and a's keys.
    const listed = await solver.keyedWithoutResult();
    expect(listed.map((l) => [l.vertex.meta.name, l.key]).sort()).toEqual([['a', keys.get('a')], ['b', keys.get('b')]]);
    expect(listed.map((l) => l.explain.step).sort()).toEqual(['a', 'b']);
    // A solve of c alone (a hit) keys b and a, never d: d is not listed.
    const top = new Solver<R>({ cache });
    await top.solve(build().inputs[0]!);
    expect((await top.keyedWithoutResult()).map((l) => l.vertex.meta.name).sort()).toEqual(['a', 'b']);
  });

  it('re-runs only what follows a changed input key', async () => {
    const cache = new MemoryCache();
    const build = (log: Log, seed: string) => {
      const a = vertex(fake('a', log, { keySeed: seed }), [], { name: 'a' });
      const b = vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
      return vertex(withInputs(fake('c', log), 1), [b], { name: 'c' });
    };
    await new Solver({ cache }).solve(build(newLog(), 'v1'));
    const log = newLog();
    await new Solver({ cache }).solve(build(log, 'v2'));
    expect(log.executed).toEqual(['a', 'b', 'c']);
  });

  it('keys by content when asked: an equal checksum keeps the dependant cached', async () => {
    const cache = new MemoryCache();
    const build = (log: Log, seed: string) => {
      const a = vertex(fake('a', log, { keySeed: seed }), [], { name: 'a' });
      return vertex(withInputs(fake('b', log), 1, () => 'same content'), [a], { name: 'b' });
    };
    await new Solver({ cache }).solve(build(newLog(), 'v1'));
    const log = newLog();
    await new Solver({ cache }).solve(build(log, 'v2'));
    expect(log.executed).toEqual(['a']);
  });

  it('honours ignoreCache (--no-cache) and the concurrency limit', async () => {
    const cache = new MemoryCache();
    const log = newLog();
    const leaves = ['x', 'y', 'z'].map((s) => vertex(fake(s, log, { delay: 20 }), [], { name: s }));
    const top = vertex(withInputs(fake('top', log), 3), leaves, { name: 'top' });
    await new Solver({ cache, concurrency: 1 }).solve(top);
    expect(log.maxRunning).toBe(1);
    const again = newLog();
    const leaves2 = ['x', 'y', 'z'].map((s) => vertex(fake(s, again), [], { name: s }));
    await new Solver({ cache, ignoreCache: () => true }).solve(vertex(withInputs(fake('top', again), 3), leaves2, { name: 'top' }));
    expect(again.executed.sort()).toEqual(['top', 'x', 'y', 'z']);
  });

  it('an ignored vertex under a cached one runs again, and so does everything keyed on it (--no-cache-filter)', async () => {
    const cache = new MemoryCache();
    const chain = (log: Log) => {
      const base = vertex(fake('base', log), [], { name: 'base' });
      const a = vertex(withInputs(fake('a', log), 1), [base], { name: 'a' });
      const b = vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
      return { a, top: vertex(withInputs(fake('top', log), 1), [b], { name: 'top' }) };
    };
    await new Solver({ cache }).solve(chain(newLog()).top);
    const log = newLog();
    const { a, top } = chain(log);
    const events: SolveEvent[] = [];
    await new Solver({ cache, ignoreCache: (v) => v === a, events: (e) => events.push(e) }).solve(top);
    expect(log.executed).toEqual(['a', 'b', 'top']);
    // What is under the ignored vertex still comes from the cache.
    expect(events.filter((e) => e.kind === 'vertex' && e.state === 'cached').map((e) => e.kind === 'vertex' && e.name)).toEqual(['base']);
  });

  it('a vertex keying an ignored input by content hits when the new content is the same', async () => {
    const cache = new MemoryCache();
    const graph = (log: Log) => {
      const a = vertex(fake('a', log), [], { name: 'a' });
      return { a, top: vertex(withInputs(fake('top', log), 1, () => 'same'), [a], { name: 'top' }) };
    };
    await new Solver({ cache }).solve(graph(newLog()).top);
    const log = newLog();
    const { a, top } = graph(log);
    await new Solver({ cache, ignoreCache: (v) => v === a }).solve(top);
    expect(log.executed).toEqual(['a']);
  });

  it('an ignored vertex is solved apart from an equal one that may use the cache', async () => {
    const cache = new MemoryCache();
    const graph = (log: Log) => {
      const kept = vertex(fake('step', log), [], { name: 'kept' });
      const ignored = vertex(fake('step', log), [], { name: 'ignored' });
      expect(kept.digest).toBe(ignored.digest);
      return { ignored, top: vertex(withInputs(fake('top', log, { content: true }), 2, () => 'same'), [kept, ignored], { name: 'top' }) };
    };
    await new Solver({ cache }).solve(graph(newLog()).top);
    const log = newLog();
    const { ignored, top } = graph(log);
    const events: SolveEvent[] = [];
    await new Solver({ cache, ignoreCache: (v) => v === ignored, events: (e) => events.push(e) }).solve(top);
    expect(log.executed).toEqual(['step']);
    const states = events.filter((e) => e.kind === 'vertex').map((e) => e.kind === 'vertex' && `${e.name} ${e.state}`);
    expect(states).toContain('kept cached');
    expect(states).toContain('ignored done');
  });

  it('reports the failing vertex and does not cache it', async () => {
    const cache = new MemoryCache();
    const log = newLog();
    const bad: Vertex<R> = vertex(fake('bad', log, { fail: true }), [], { name: 'bad step' });
    const top = vertex(withInputs(fake('top', log), 1), [bad], { name: 'top' });
    const err = await new Solver({ cache }).solve(top).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VertexError);
    expect((err as VertexError).vertex).toBe(bad.digest);
    expect((err as VertexError).vertexName).toBe('bad step');
    expect(cache.map.size).toBe(0);
    expect(log.executed).toEqual(['bad']);
  });

  it('goes on to the next step while a cache record is written, and settles once all are', async () => {
    const written: string[] = [];
    let release = (): void => {};
    const held = new Promise<void>((r) => (release = r));
    const cache: CacheStore<R> = {
      get: async () => undefined,
      put: async (_key, r) => {
        if (r === 'a()') await held; // the first record takes its time
        written.push(r);
      },
    };
    const log = newLog();
    const a = vertex(fake('a', log), [], { name: 'a' });
    const b = vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
    let settled = false;
    const solving = new Solver({ cache }).solve(b).then((r) => ((settled = true), r));
    while (!log.executed.includes('b')) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    expect(await solving).toBe('b(a())');
    expect(written.sort()).toEqual(['a()', 'b(a())']);
  });

  it('fails when a cache record cannot be written, after the build', async () => {
    const log = newLog();
    const cache: CacheStore<R> = {
      get: async () => undefined,
      put: async (_key, r) => {
        if (r === 'a()') throw new Error('disk full');
      },
    };
    const a = vertex(fake('a', log), [], { name: 'a' });
    const b = vertex(withInputs(fake('b', log), 1), [a], { name: 'b' });
    await expect(new Solver({ cache }).solve(b)).rejects.toThrow('disk full');
    expect(log.executed).toEqual(['a', 'b']);
  });

  it('stops when aborted', async () => {
    const log = newLog();
    const slow = vertex(fake('slow', log, { delay: 200 }), [], { name: 'slow' });
    const top = vertex(withInputs(fake('top', log), 1), [slow], { name: 'top' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 20);
    await expect(new Solver({ cache: new MemoryCache() }).solve(top, ac.signal)).rejects.toThrow();
    expect(log.executed).not.toContain('top');
  });
});

describe('Solver: why a step missed', () => {
  /** An op keyed by its explanation's parts, as real ops are (fields and files). */
  const explained = (seed: string, log: Log, parts: KeyParts, inputs = 0): Op<R> =>
    withInputs(
      {
        ...fake(seed, log),
        async cacheMap() {
          return { opDigest: sha256(JSON.stringify(parts)), inputs: [], explain: parts };
        },
      },
      inputs,
    );
  /** An imported cache: the results of `results` (none by default), the explanations by step. */
  const imported = (records: Map<string, StepExplanation>, results = new MemoryCache()): CacheStore<R> => ({
    get: (key) => results.get(key),
    put: async () => {},
    previous: async (step) => records.get(step),
  });
  const chain = (log: Log, file: string, version: string) => {
    const copy = vertex(explained('copy', log, { fields: { dest: '/' }, files: { count: 1, sum: file, paths: { 'app.txt': file } } }), [], { name: '[1/3] COPY app.txt /', step: 'COPY app.txt /' });
    const run = vertex(explained('run', log, { fields: { 'env:VERSION': version } }, 1), [copy], { name: '[2/3] RUN make', step: 'RUN make', buildArgs: ['VERSION'] });
    return vertex(explained('run2', log, { fields: { command: 'test' } }, 1), [run], { name: '[3/3] RUN test', step: 'RUN test' });
  };

  it('emits, after a step starts, what differs from the imported record of the same step, following inputs to the first cause', async () => {
    const records = new Map<string, StepExplanation>();
    const results = new MemoryCache();
    await new Solver({ cache: results, onResult: (_v, _k, _r, e) => records.set(e.step, e) }).solve(chain(newLog(), 'f1', '1.2'));
    expect([...records.keys()].sort()).toEqual(['COPY app.txt /', 'RUN make', 'RUN test']);

    const events: SolveEvent[] = [];
    await new Solver({ cache: imported(records), events: (e) => events.push(e) }).solve(chain(newLog(), 'f2', '1.2'));
    const misses = events.flatMap((e) => (e.kind === 'miss' ? [e.reasons] : []));
    expect(misses).toEqual([
      [{ kind: 'files', added: [], removed: [], changed: ['app.txt'], more: 0 }],
      [{ kind: 'input', step: '[1/3] COPY app.txt /' }],
      [{ kind: 'input', step: '[1/3] COPY app.txt /' }],
    ]);
    // Each reason follows its step's start.
    const at = events.findIndex((e) => e.kind === 'miss');
    expect(events[at - 1]).toMatchObject({ kind: 'vertex', state: 'started', name: '[1/3] COPY app.txt /' });

    events.length = 0;
    // The COPY hits; the RUN whose build arg changed is the first cause of the next one.
    await new Solver({ cache: imported(records, results), events: (e) => events.push(e) }).solve(chain(newLog(), 'f1', '1.3'));
    expect(events.flatMap((e) => (e.kind === 'miss' ? [e.reasons] : []))).toEqual([
      [{ kind: 'build-arg', name: 'VERSION', before: '1.2', now: '1.3' }],
      [{ kind: 'input', step: '[2/3] RUN make' }],
    ]);
  });

  it('says nothing without an imported record of the step, and nothing for steps run without their cache', async () => {
    const events: SolveEvent[] = [];
    await new Solver({ cache: imported(new Map()), events: (e) => events.push(e) }).solve(chain(newLog(), 'f1', '1'));
    expect(events.filter((e) => e.kind === 'miss')).toEqual([]);
    const records = new Map<string, StepExplanation>();
    await new Solver({ cache: new MemoryCache(), onResult: (_v, _k, _r, e) => records.set(e.step, e) }).solve(chain(newLog(), 'f1', '1'));
    await new Solver({ cache: imported(records), events: (e) => events.push(e), ignoreCache: () => true }).solve(chain(newLog(), 'f2', '1'));
    expect(events.filter((e) => e.kind === 'miss')).toEqual([]);
  });
});
