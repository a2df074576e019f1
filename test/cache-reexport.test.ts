// A build from the cache writes the whole cache back, as BuildKit does: runner A exports; runner
// B (fresh state directory, another checkout path) imports it, hits every step and exports to
// the same ref / scope, reading no layer (counted at the registry and at the blob store); runner
// C imports B's export with one copied file changed and runs only the steps after that COPY, so
// the records under B's hits (which B never solved) survived B's export. For mode=max and
// mode=min, against a real registry, the loopback GitHub Actions cache service on azurite, and
// a local directory (which may read the layers: its blobs are files here).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from './support/azurite.js';
import { tsbuildAsync, type Run } from './support/cli.js';
import { cachedCount, copyCheckout, DOCKERFILE, MARKERS, ran } from './support/cache-scenario.js';
import { isCI, isRoot } from './support/env.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from './support/gha-cache.js';
import { startFaultProxy, type FaultProxy } from './support/proxy.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-reexport-'));
const checkoutA = join(work, 'runner-a', 'checkout', 'app');

/** A build on a runner of its own (state directory `root`); `out`: a local output, if any. */
function build(root: string, context: string, out: string | undefined, extra: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return tsbuildAsync(['build', '--root', join(work, root), '--progress', 'plain', ...(out === undefined ? [] : ['-o', `type=local,dest=${out}`]), ...extra, context], { env }).done;
}

/** Runner C's checkout: A's with `app.txt` changed. */
const changed = (name: string) => copyCheckout(checkoutA, join(work, name, 'app'), 'version 2\n');

/**
 * C ran only the RUN after the changed COPY, its files A's (`outA`) but for that one. From a
 * mode=min cache the side stage runs too: the COPY --from after the change needs its result,
 * which only a mode=max cache holds (as BuildKit's mode=min).
 */
function expectOnlyTheChangeRan(r: Run, out: string, outA: string, mode: 'max' | 'min'): void {
  expectOk(r);
  expect(ran(r)).toEqual(mode === 'max' ? ['RAN-SECOND'] : ['RAN-SIDE', 'RAN-SECOND']);
  expect(readFileSync(join(out, 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
  if (mode === 'max') expect(readFileSync(join(out, 'side'), 'utf8')).toBe(readFileSync(join(outA, 'side'), 'utf8'));
  expect(readFileSync(join(out, 'second'), 'utf8')).toMatch(/version 2\n$/);
}

describe.skipIf(!isRoot && !isCI)('re-exporting an imported cache', () => {
  beforeAll(async () => {
    writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
    await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('type=registry', () => {
    let registry: TestRegistry;
    const outA = join(work, 'out-a');
    const ref = (tag: string) => `${registry.host}/cache:${tag}`;

    interface Manifest {
      config: { digest: string };
      layers: { digest: string }[];
    }
    const manifest = async (tag: string): Promise<Manifest> =>
      (await (await fetch(`http://${registry.host}/v2/cache/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as Manifest;
    /** The cache's records at `tag`: key → its chain's layer digests. */
    const records = async (tag: string): Promise<Map<string, string[]>> => {
      const m = await manifest(tag);
      const config = (await (await fetch(`http://${registry.host}/v2/cache/blobs/${m.config.digest}`)).json()) as { records: { key: string; layers: number[] }[] };
      return new Map(config.records.map((r) => [r.key, r.layers.map((i) => m.layers[i]!.digest)]));
    };

    beforeAll(async () => {
      registry = await startRegistry(join(work, 'registry'));
      // Runner A: every step runs; a max cache and a min one.
      const a = await build('root-a', checkoutA, outA, ['--cache-to', `type=registry,ref=${ref('max')},mode=max`, '--cache-to', `type=registry,ref=${ref('min')},mode=min`]);
      expectOk(a);
      expect(ran(a)).toEqual(MARKERS);
    }, 300_000);
    afterAll(async () => registry?.stop());

    for (const mode of ['max', 'min'] as const) {
      it(`mode=${mode}: a fully cached runner re-exports every record without reading a layer; the next runner hits below the change`, async () => {
        const before = await records(mode);
        const layers = (await manifest(mode)).layers.map((l) => l.digest);
        // Runner B: no output needs a file or a blob; everything hits.
        const n = registry.requests().length;
        const b = await build(`root-b-${mode}`, copyCheckout(checkoutA, join(work, `runner-b-${mode}`, 'src', 'app')), undefined, [
          '--cache-from', `type=registry,ref=${ref(mode)}`,
          '--cache-to', `type=registry,ref=${ref(mode)},mode=${mode}`,
        ]);
        expectOk(b);
        expect(ran(b)).toEqual([]);
        expect(cachedCount(b)).toBeGreaterThanOrEqual(5);
        const requests = registry.requests().slice(n);
        // No layer was read, probed or uploaded: the ref's own import listed them all.
        expect(requests.filter((q) => layers.some((d) => q.uri.endsWith(`/blobs/${d}`))).map((q) => `${q.method} ${q.uri}`)).toEqual([]);
        expect(requests.filter((q) => q.method === 'PUT' && q.uri.includes('/blobs/uploads/'))).toHaveLength(0);
        // The same records as A's (the config is the same bytes: nothing was uploaded for it).
        expect(await records(mode)).toEqual(before);
        expect((await manifest(mode)).layers.map((l) => l.digest).sort()).toEqual([...layers].sort());

        // Runner C: app.txt changed; RUN first, under B's hits, still hits from B's export.
        const out = join(work, `out-c-${mode}`);
        const c = await build(`root-c-${mode}`, changed(`runner-c-${mode}`), out, ['--cache-from', `type=registry,ref=${ref(mode)}`]);
        expectOnlyTheChangeRan(c, out, outA, mode);
      });
    }
  });

  describe('type=local', () => {
    const outA = join(work, 'out-la');
    const dir = (mode: string) => join(work, `local-cache-${mode}`);

    beforeAll(async () => {
      const a = await build('root-la', checkoutA, outA, ['--cache-to', `type=local,dest=${dir('max')},mode=max`, '--cache-to', `type=local,dest=${dir('min')},mode=min`]);
      expectOk(a);
      expect(ran(a)).toEqual(MARKERS);
    }, 300_000);

    for (const mode of ['max', 'min'] as const) {
      it(`mode=${mode}: a fully cached runner re-exports every record to the directory it imported from; the next runner hits below the change`, async () => {
        const index = () => readFileSync(join(dir(mode), 'index.json'), 'utf8');
        const before = index();
        const b = await build(`root-lb-${mode}`, copyCheckout(checkoutA, join(work, `runner-lb-${mode}`, 'src', 'app')), undefined, [
          '--cache-from', `type=local,src=${dir(mode)}`,
          '--cache-to', `type=local,dest=${dir(mode)},mode=${mode}`,
        ]);
        expectOk(b);
        expect(ran(b)).toEqual([]);
        // The same records and layers: the very manifest A wrote.
        expect(index()).toBe(before);

        const out = join(work, `out-lc-${mode}`);
        const c = await build(`root-lc-${mode}`, changed(`runner-lc-${mode}`), out, ['--cache-from', `type=local,src=${dir(mode)}`]);
        expectOnlyTheChangeRan(c, out, outA, mode);
      });
    }
  });

  describe('type=gha', () => {
    let azurite: Azurite;
    let proxy: FaultProxy;
    let service: GhaCacheService;
    let env: NodeJS.ProcessEnv;
    const outA = join(work, 'out-ga');

    /** The blob store GETs of layer entries (own or packed) since `n`: what the runner downloaded. */
    const layerDownloads = (n: number): string[] => {
      const layerBlobs = new Set(service.entries().filter((e) => /^tsbuild-(blob|pack)-/.test(e.key)).map((e) => e.blob));
      return proxy.seen.slice(n).filter((s) => s.method === 'GET' && [...layerBlobs].some((b) => s.url.split('?')[0]!.endsWith(`/${b}`))).map((s) => s.url);
    };
    const indexEntries = (scope: string) => service.entries().filter((e) => e.key.startsWith(`tsbuild-index:${scope}:`));

    beforeAll(async () => {
      azurite = await startAzurite();
      // The signed URLs point at a proxy in front of azurite, which sees every blob request.
      const blobs = new URL(azurite.blobEndpoint);
      proxy = await startFaultProxy(blobs.host, () => 'pass');
      service = await startGhaCacheService(azurite, { blobEndpoint: `http://${proxy.host}${blobs.pathname}` });
      env = { ACTIONS_RESULTS_URL: service.url, ACTIONS_RUNTIME_TOKEN: service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]), ACTIONS_CACHE_MODE: '' };
      const a = await build('root-ga', checkoutA, outA, ['--cache-to', 'type=gha,scope=max,mode=max', '--cache-to', 'type=gha,scope=min,mode=min'], env);
      expectOk(a);
      expect(ran(a)).toEqual(MARKERS);
    }, 300_000);
    afterAll(async () => {
      await service?.close();
      await proxy?.close();
      await azurite?.stop();
    });

    for (const mode of ['max', 'min'] as const) {
      it(`mode=${mode}: a fully cached runner re-exports to the scope it imported from without downloading a layer; the next runner hits below the change`, async () => {
        const n = proxy.seen.length;
        const b = await build(`root-gb-${mode}`, copyCheckout(checkoutA, join(work, `runner-gb-${mode}`, 'src', 'app')), undefined, [
          '--cache-from', `type=gha,scope=${mode}`,
          '--cache-to', `type=gha,scope=${mode},mode=${mode}`,
        ], env);
        expectOk(b);
        expect(ran(b)).toEqual([]);
        expect(layerDownloads(n)).toEqual([]);
        // Every layer named where the import had it: nothing uploaded, all of them (base
        // alone, the rest packed) in the new index entry.
        expect(b.stderr).toMatch(new RegExp(`^#\\d+ requests \\(0 layers uploaded, 1 already there, ${mode === 'max' ? 5 : 4} packed\\) \\d+$`, 'm'));
        expect(indexEntries(mode)).toHaveLength(2);

        const out = join(work, `out-gc-${mode}`);
        const c = await build(`root-gc-${mode}`, changed(`runner-gc-${mode}`), out, ['--cache-from', `type=gha,scope=${mode}`], env);
        expectOnlyTheChangeRan(c, out, outA, mode);
      });
    }
  });
});
