// Faults while a cache is exported, with real parts on loopback, each one triggered at a
// chosen point rather than after a sleep:
// - the registry SIGKILLed in the middle of a layer upload (a proxy in front of it kills it
//   once half of the first large blob went through), then restarted on the same storage;
// - two builders on different state directories exporting to the same ref at once (the proxy
//   holds both manifest uploads until both have come);
// - the gha service answering 429 (Retry-After) and 500 for a while, or past timeout=;
// - a local export SIGKILLed just before or just after the syscall that swaps the new layout in
//   (strace stops the builder there).
// In every case the image outputs are whole (umoci reads them), and a later import never trusts
// a cache it cannot satisfy: every step either hits, with the content of the build that
// exported it, or runs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from './support/azurite.js';
import { copyCheckout, imageId } from './support/cache-scenario.js';
import { TSBUILD, tsbuildAsync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from './support/gha-cache.js';
import { umociUnpack } from './support/oci.js';
import { startFaultProxy, type FaultProxy } from './support/proxy.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-faults-'));
const checkoutA = join(work, 'runner-a', 'checkout', 'app');

/** Two layers of 4 MB of noise (gzip cannot shrink them): an upload of one takes many writes. */
const BIG = 4_000_000;
const MARKERS = ['RAN-BIG', 'RAN-LAST'] as const;
const DOCKERFILE = [
  'FROM scratch AS base',
  'COPY rootfs/ /',
  'FROM base',
  `RUN echo RAN-BIG && head -c ${BIG} /dev/urandom > /big`,
  'COPY app.txt /app.txt',
  `RUN echo RAN-LAST && cat /app.txt > /last && head -c ${BIG} /dev/urandom >> /last`,
  '',
].join('\n');

/** The markers of the RUNs that ran in `r` (plain progress). */
const ran = (r: Run): string[] => MARKERS.filter((m) => new RegExp(`^#\\d+ [\\d.]+ ${m}$`, 'm').test(r.stderr));

/**
 * A build on a runner of its own (state directory `root`): the files in `out`, the image as an
 * OCI layout in `out.oci` (tag 1), the metadata in `out.json`.
 */
function build(root: string, context: string, out: string, extra: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return tsbuildAsync(
    [
      'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, '-o', `type=oci,dest=${out}.oci,tar=false,name=faults:1`,
      '--metadata-file', `${out}.json`, ...extra, context,
    ],
    { env },
  ).done;
}

const checkout = (to: string, change?: string): string => copyCheckout(checkoutA, to, change);
const file = (out: string, name: string) => readFileSync(join(out, name));

/** The OCI layout the build wrote is whole: umoci unpacks it (checking every digest) to the files of `out`. */
function expectImageWhole(out: string): void {
  const rootfs = join(umociUnpack(`${out}.oci`, '1', `${out}.bundle`), 'rootfs');
  for (const f of ['big', 'app.txt', 'last']) expect(readFileSync(join(rootfs, f)).equals(file(out, f))).toBe(true);
  expect(statSync(join(rootfs, 'big')).size).toBe(BIG);
}

beforeAll(async () => {
  writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
  await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!isRoot && !isCI)('the registry killed in the middle of a cache export', () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let port: number;
  const dir = join(work, 'registry');
  /** Set by a test: the next large blob upload is cut halfway, the registry SIGKILLed first. */
  let armed = false;
  let kills = 0;
  /** Set by a test: manifest PUTs to this repository wait until `held.want` of them came. */
  let held: { repo: string; want: number; waiting: (() => void)[]; released: number } | undefined;

  const isLargeUpload = (req: IncomingMessage) =>
    (req.method === 'PUT' || req.method === 'PATCH') && (req.url ?? '').includes('/blobs/uploads/') && Number(req.headers['content-length'] ?? 0) > BIG / 2;

  beforeAll(async () => {
    registry = await startRegistry(dir);
    port = Number(registry.host.split(':')[1]);
    proxy = await startFaultProxy(
      registry.host,
      (req) => {
        if (!armed || !isLargeUpload(req)) return 'pass';
        armed = false;
        return 'cut';
      },
      {
        beforeCut: async () => {
          kills++;
          await registry.kill();
        },
        beforePass: async (req) => {
          const h = held;
          if (h === undefined || req.method !== 'PUT' || !(req.url ?? '').startsWith(`/v2/${h.repo}/manifests/`)) return;
          await new Promise<void>((resolve) => {
            h.waiting.push(resolve);
            if (h.waiting.length >= h.want) {
              h.released = h.waiting.length;
              for (const go of h.waiting.splice(0)) go();
            }
          });
        },
      },
    );
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  /** The registry again, on the same port and storage, as after a crash. */
  const restart = async () => {
    registry = await startRegistry(dir, { port });
  };

  it('a fresh ref: the build fails after writing whole outputs, ignore-error=true warns; after a restart nothing of it is trusted', async () => {
    const ref = `${proxy.host}/cache:fresh`;
    const root = join(work, 'root-a');
    armed = true;
    const out = join(work, 'out-killed');
    const r = await build(root, checkoutA, out, ['--cache-to', `type=registry,ref=${ref},mode=max`]);
    expect(kills).toBe(1);
    expect(r.status).toBe(1);
    expect(ran(r)).toEqual(MARKERS);
    // The push client's error names the ref: the registry is gone mid-upload.
    expect(r.stderr).toMatch(/^error: \S+\/cache:fresh: cannot reach http:\/\/\S+: /m);
    expectImageWhole(out);
    expect(imageId(out)).toMatch(/^sha256:/);
    await restart();

    // The same export again with ignore-error=true: killed again (nothing of the first upload
    // was committed), a warning, and the build succeeds.
    armed = true;
    const ignored = await build(root, checkoutA, join(work, 'out-killed-ignored'), ['--cache-to', `type=registry,ref=${ref},mode=max,ignore-error=true`]);
    expectOk(ignored);
    expect(kills).toBe(2);
    expect(ignored.stderr).toMatch(/^WARNING: \S+\/cache:fresh: cannot reach .*\(ignored: ignore-error=true\)$/m);
    expect(imageId(join(work, 'out-killed-ignored'))).toBe(imageId(out));
    await restart();

    // No manifest was pushed: a fresh runner finds no cache (a warning) and runs every step.
    const fresh = await build(join(work, 'root-fresh'), checkout(join(work, 'runner-fresh', 'app')), join(work, 'out-fresh'), ['--cache-from', ref]);
    expectOk(fresh);
    expect(fresh.stderr).toContain(`WARNING: registry cache import from ${ref} skipped: not found`);
    expect(ran(fresh)).toEqual(MARKERS);
  }, 300_000);

  it('a cache already at the ref stays whole when the registry dies while a newer one is pushed: each step hits with its content, or runs', async () => {
    const ref = `${proxy.host}/cache:ci`;
    // A state directory of its own, where every step runs: the export then has them all.
    const root = join(work, 'root-ci');
    const outOld = join(work, 'out-old');
    expectOk(await build(root, checkoutA, outOld, ['--cache-to', `type=registry,ref=${ref},mode=max`]));

    // Version 2 runs the last RUN again: its new 4 MB layer is the upload the kill lands in.
    const v2 = checkout(join(work, 'runner-v2', 'app'), 'version 2\n');
    armed = true;
    const outNew = join(work, 'out-new');
    const killed = await build(root, v2, outNew, ['--cache-to', `type=registry,ref=${ref},mode=max`]);
    expect(kills).toBe(3);
    expect(killed.status).toBe(1);
    expect(ran(killed)).toEqual(['RAN-LAST']);
    expectImageWhole(outNew);
    await restart();

    // Version 1 from the old cache: every step hits, with the old build's content.
    const outV1 = join(work, 'out-import-v1');
    const v1 = await build(join(work, 'root-import-v1'), checkout(join(work, 'runner-i1', 'app')), outV1, ['--cache-from', ref]);
    expectOk(v1);
    expect(ran(v1)).toEqual([]);
    expect(imageId(outV1)).toBe(imageId(outOld));
    // Version 2: the big RUN hits with the old build's bytes; the steps after the change run.
    const outV2 = join(work, 'out-import-v2');
    const i2 = await build(join(work, 'root-import-v2'), checkout(join(work, 'runner-i2', 'app'), 'version 2\n'), outV2, ['--cache-from', ref]);
    expectOk(i2);
    expect(ran(i2)).toEqual(['RAN-LAST']);
    expect(file(outV2, 'big').equals(file(outOld, 'big'))).toBe(true);
    expect(file(outV2, 'last').subarray(0, 10).toString()).toBe('version 2\n');
    expectImageWhole(outV2);

    // The restarted registry takes the newer cache whole, the upload the kill cut short notwithstanding.
    expectOk(await build(root, v2, join(work, 'out-new-again'), ['--cache-to', `type=registry,ref=${ref},mode=max`]));
    const outAfter = join(work, 'out-import-after');
    const after = await build(join(work, 'root-import-after'), checkout(join(work, 'runner-i3', 'app'), 'version 2\n'), outAfter, ['--cache-from', ref]);
    expectOk(after);
    expect(ran(after)).toEqual([]);
    expect(file(outAfter, 'last').equals(file(outNew, 'last'))).toBe(true);
  }, 300_000);

  it('two builders on different state directories export to one ref at once: both succeed, and the ref holds one of the two whole', async () => {
    const ref = `${proxy.host}/race/cache:main`;
    expectOk(await build(join(work, 'root-seed'), checkoutA, join(work, 'out-seed'), ['--cache-to', `type=registry,ref=${ref},mode=max`]));
    const checkouts = { a: checkout(join(work, 'runner-ra', 'app'), 'version A\n'), b: checkout(join(work, 'runner-rb', 'app'), 'version B\n') };
    // Both manifests wait at the proxy until both have come: the two exports overlap for sure.
    held = { repo: 'race/cache', want: 2, waiting: [], released: 0 };
    const [a, b] = await Promise.all(
      (['a', 'b'] as const).map((n) =>
        build(join(work, `root-race-${n}`), checkouts[n], join(work, `out-race-${n}`), ['--cache-from', ref, '--cache-to', `type=registry,ref=${ref},mode=max`]),
      ),
    );
    const released = held.released;
    held = undefined;
    for (const r of [a!, b!]) {
      expectOk(r);
      // The big RUN hit the seed's cache; the step after the changed file ran.
      expect(ran(r)).toEqual(['RAN-LAST']);
    }
    expect(released).toBe(2);

    // A third runner of each version: one of them hits every step of its builder's build.
    const third = await Promise.all(
      (['a', 'b'] as const).map(async (n) => {
        const out = join(work, `out-third-${n}`);
        const r = await build(join(work, `root-third-${n}`), checkout(join(work, `runner-third-${n}`, 'app'), `version ${n.toUpperCase()}\n`), out, ['--cache-from', ref]);
        expectOk(r);
        return { n, r, out };
      }),
    );
    const whole = third.filter(({ r }) => ran(r).length === 0);
    expect(whole).toHaveLength(1);
    const { n, out } = whole[0]!;
    expect(imageId(out)).toBe(imageId(join(work, `out-race-${n}`)));
    expect(file(out, 'last').equals(file(join(work, `out-race-${n}`), 'last'))).toBe(true);
    // The other one runs only what follows its change, on the seed's big layer.
    const other = third.find((t) => t.n !== n)!;
    expect(ran(other.r)).toEqual(['RAN-LAST']);
    expect(file(other.out, 'big').equals(file(join(work, 'out-seed'), 'big'))).toBe(true);
  }, 300_000);
});

describe.skipIf(!isRoot && !isCI)('the gha cache service failing for a while', () => {
  let azurite: Azurite;
  let service: GhaCacheService;
  let token: string;
  const root = join(work, 'root-gha');
  const outRef = join(work, 'out-gha-ref');

  const gha = (r: string, context: string, out: string, extra: readonly string[]) =>
    build(r, context, out, extra, { ACTIONS_RESULTS_URL: service.url, ACTIONS_RUNTIME_TOKEN: token, ACTIONS_CACHE_MODE: '' });
  const indexEntries = (scope: string) => service.entries().filter((e) => e.key.startsWith(`tsbuild-index:${scope}:`) && e.finalized);

  beforeAll(async () => {
    azurite = await startAzurite();
    service = await startGhaCacheService(azurite);
    token = service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]);
    expectOk(await build(root, checkoutA, outRef, []));
  }, 300_000);
  afterAll(async () => {
    await service?.close();
    await azurite?.stop();
  });

  it('429 with Retry-After, then 500s: the export succeeds after retries and a fresh runner hits every step', async () => {
    const before = service.calls.length;
    service.failNext(2, { status: 429, retryAfter: 1 });
    service.failNext(3, { status: 500 });
    const r = await gha(root, checkoutA, join(work, 'out-gha-retried'), ['--cache-to', 'type=gha,scope=retried,mode=max']);
    expectOk(r);
    const calls = service.calls.slice(before);
    expect(calls.filter((c) => c.status === 429)).toHaveLength(2);
    expect(calls.filter((c) => c.status === 500)).toHaveLength(3);
    expect(indexEntries('retried')).toHaveLength(1);
    const out = join(work, 'out-gha-retried-b');
    const b = await gha(join(work, 'root-gha-retried-b'), checkout(join(work, 'runner-gha-b', 'app')), out, ['--cache-from', 'type=gha,scope=retried']);
    expectOk(b);
    expect(ran(b)).toEqual([]);
    expect(imageId(out)).toBe(imageId(outRef));
  }, 300_000);

  it('500s past timeout=: the export fails after whole outputs (a warning with ignore-error); a later export stores the layers whose entries it left unfinished under keys of its own', async () => {
    const root = join(work, 'root-gha-broken');
    const broken = checkout(join(work, 'runner-gha-broken', 'app'), 'version broken\n');
    // Every finalization fails until the faults are cleared: the new layers are reserved and
    // uploaded, none made visible.
    service.failNext(Infinity, { status: 500 }, 'FinalizeCacheEntryUpload');
    try {
      const out = join(work, 'out-gha-broken');
      const r = await gha(root, broken, out, ['--cache-to', 'type=gha,scope=broken,mode=max,timeout=3s']);
      expect(r.status).toBe(1);
      expect(ran(r)).toEqual(MARKERS);
      expect(r.stderr).toMatch(/^#\d+ ERROR: cannot export the cache to gha:[^:]+: FinalizeCacheEntryUpload: HTTP 500 \(timed out retrying\)$/m);
      expect(r.stderr).toMatch(/^error: cannot export the cache to gha:[^:]+: FinalizeCacheEntryUpload: HTTP 500 \(timed out retrying\)$/m);
      expectImageWhole(out);
      const ignored = await gha(root, broken, join(work, 'out-gha-broken-ignored'), ['--cache-to', 'type=gha,scope=broken,mode=max,timeout=3s,ignore-error=true']);
      expectOk(ignored);
      expect(ignored.stderr).toMatch(/^WARNING: cannot export the cache to gha:[^:]+: FinalizeCacheEntryUpload: HTTP 500 .*\(ignored: ignore-error=true\)$/m);
    } finally {
      service.clearFaults();
    }
    expect(indexEntries('broken')).toHaveLength(0);
    const none = await gha(join(work, 'root-gha-none'), checkout(join(work, 'runner-gha-none', 'app')), join(work, 'out-gha-none'), ['--cache-from', 'type=gha,scope=broken']);
    expectOk(none);
    expect(none.stderr).toContain('WARNING: gha cache import of scope broken skipped: no cache exported under it yet');
    expect(ran(none)).toEqual(MARKERS);

    // The service is well again. An export from the same state directory after another change
    // writes its index entry. The big RUN's layer entry the failed export reserved and never
    // finalized is still there, unreadable: the service answers "already exists" for its key,
    // and a lookup finds nothing. The export stores that layer under a key of its own, which
    // its index names.
    const unfinishedBefore = service.entries().filter((e) => e.key.startsWith('tsbuild-blob-') && !e.finalized);
    expect(unfinishedBefore.length).toBeGreaterThan(0);
    const changed = checkout(join(work, 'runner-gha-broken2', 'app'), 'version broken 2\n');
    const again = await gha(root, changed, join(work, 'out-gha-again'), ['--cache-to', 'type=gha,scope=broken,mode=max']);
    expectOk(again);
    expect(ran(again)).toEqual(['RAN-LAST']);
    expect(indexEntries('broken')).toHaveLength(1);
    const aliased = service.entries().filter((e) => e.finalized && unfinishedBefore.some((u) => e.key.startsWith(`${u.key}-`)));
    // (Only the layers this export's records name: the big RUN's and the ones under it.)
    expect(aliased.length).toBeGreaterThan(0);
    // A fresh runner hits every step: no record names a layer it cannot read; the outputs are right.
    const out = join(work, 'out-gha-after');
    const after = await gha(join(work, 'root-gha-after'), checkout(join(work, 'runner-gha-after', 'app'), 'version broken 2\n'), out, ['--cache-from', 'type=gha,scope=broken']);
    expectOk(after);
    expect(ran(after)).toEqual([]);
    expect(file(out, 'app.txt').toString()).toBe('version broken 2\n');
    expectImageWhole(out);
  }, 300_000);

  it('two builders on different state directories export to one scope at once: both succeed, and an import takes one of the two whole', async () => {
    // Both jobs build at once from nothing (every step runs), so both exports overlap.
    const builders = await Promise.all(
      (['a', 'b'] as const).map(async (n) => {
        const out = join(work, `out-gha-race-${n}`);
        const r = await gha(join(work, `root-gha-race-${n}`), checkout(join(work, `runner-gha-race-${n}`, 'app'), `version ${n}\n`), out, ['--cache-to', 'type=gha,scope=race,mode=max']);
        expectOk(r);
        return { n, out };
      }),
    );
    // Each export wrote an index entry of its own: nothing was overwritten.
    expect(indexEntries('race')).toHaveLength(2);
    // A third runner of each version: one of them hits every step of its builder's build.
    const third = await Promise.all(
      builders.map(async ({ n, out: builderOut }) => {
        const out = join(work, `out-gha-race-third-${n}`);
        const r = await gha(join(work, `root-gha-race-third-${n}`), checkout(join(work, `runner-gha-race-third-${n}`, 'app'), `version ${n}\n`), out, ['--cache-from', 'type=gha,scope=race']);
        expectOk(r);
        return { r, out, builderOut };
      }),
    );
    const whole = third.filter(({ r }) => ran(r).length === 0);
    expect(whole).toHaveLength(1);
    expect(imageId(whole[0]!.out)).toBe(imageId(whole[0]!.builderOut));
    // The other one runs what follows its change, on the big RUN's layer of that cache.
    const other = third.find((t) => t !== whole[0])!;
    expect(ran(other.r)).toEqual(['RAN-LAST']);
    expect(file(other.out, 'big').equals(file(whole[0]!.builderOut, 'big'))).toBe(true);
  }, 300_000);
});

describe.skipIf(!isRoot && !isCI)('a local cache export killed at its swap', () => {
  const root = join(work, 'root-local');
  const parent = join(work, 'local-caches');

  /**
   * Builds `context` exporting to `dest`, under strace, which stops the builder on the first
   * rename-family syscall naming `dest` (`at`: before it runs, or after it returned); once the
   * builder is stopped there it is SIGKILLed. What strace logged of that syscall.
   */
  async function killedAtSwap(context: string, dest: string, out: string, at: 'enter' | 'exit'): Promise<string> {
    const log = join(work, `strace-${at}.log`);
    const renames = 'rename,renameat,renameat2';
    const child = spawn(
      'strace',
      ['-f', '-qq', '-o', log, '-P', dest, '-e', `trace=${renames}`, '-e', `inject=${renames}:delay_${at}=600s:when=1`,
        process.execPath, TSBUILD, 'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, '--cache-to', `type=local,dest=${dest},mode=max`, context],
      { stdio: 'ignore' },
    );
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let line: string | undefined;
    for (const deadline = Date.now() + 120_000; line === undefined && Date.now() < deadline && child.exitCode === null; ) {
      await new Promise((r) => setTimeout(r, 50));
      line = existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes(`"${dest}"`)) : undefined;
    }
    expect(line, 'the build never reached the swap').toBeDefined();
    // The builder, stopped in the syscall, takes the SIGKILL once strace lets it go: strace
    // goes, and the builder dies before it runs another instruction (a syscall it was entering
    // is not run).
    process.kill(Number(/^(\d+)/.exec(line!)![1]), 'SIGKILL');
    child.kill('SIGKILL');
    await closed;
    return line!;
  }

  const tempsBeside = (dest: string) => readdirSync(parent).filter((n) => n.startsWith(`.${dest.slice(parent.length + 1)}.tmp-`));

  it('killed just before the swap: the previous cache is intact, and the next export removes what the killed one left', async () => {
    const dest = join(parent, 'before');
    const outOld = join(work, 'out-local-old');
    expectOk(await build(root, checkoutA, outOld, ['--cache-to', `type=local,dest=${dest},mode=max`]));
    const index = readFileSync(join(dest, 'index.json'));
    await killedAtSwap(checkout(join(work, 'runner-l2', 'app'), 'version 2\n'), dest, join(work, 'out-local-killed'), 'enter');
    expect(readFileSync(join(dest, 'index.json')).equals(index)).toBe(true);
    const out = join(work, 'out-local-b');
    const b = await build(join(work, 'root-local-b'), checkout(join(work, 'runner-lb', 'app')), out, ['--cache-from', `type=local,src=${dest}`]);
    expectOk(b);
    expect(ran(b)).toEqual([]);
    expect(imageId(out)).toBe(imageId(outOld));
    // The killed builder's new layout is still beside the cache; the next export removes it.
    expect(tempsBeside(dest)).toHaveLength(1);
    expectOk(await build(root, checkoutA, join(work, 'out-local-again'), ['--cache-to', `type=local,dest=${dest},mode=max`]));
    expect(tempsBeside(dest)).toEqual([]);
  }, 300_000);

  it('killed just after the swap: the new cache is there whole, and nothing else', async () => {
    const dest = join(parent, 'after');
    mkdirSync(parent, { recursive: true });
    expectOk(await build(root, checkoutA, join(work, 'out-local-old2'), ['--cache-to', `type=local,dest=${dest},mode=max`]));
    const outNew = join(work, 'out-local-killed2');
    await killedAtSwap(checkout(join(work, 'runner-l3', 'app'), 'version 3\n'), dest, outNew, 'exit');
    const out = join(work, 'out-local-c');
    const c = await build(join(work, 'root-local-c'), checkout(join(work, 'runner-lc', 'app'), 'version 3\n'), out, ['--cache-from', `type=local,src=${dest}`]);
    expectOk(c);
    expect(ran(c)).toEqual([]);
    expect(file(out, 'last').equals(file(outNew, 'last'))).toBe(true);
    // What the killed builder had not removed yet (the old layout) goes with the next export.
    expectOk(await build(root, checkoutA, join(work, 'out-local-again2'), ['--cache-to', `type=local,dest=${dest},mode=max`]));
    expect(tempsBeside(dest)).toEqual([]);
  }, 300_000);
});
