// --cache-to / --cache-from type=gha end to end, against the loopback GitHub Actions cache
// service of test/support/gha-cache.ts (blobs in azurite): a runner exports, a fresh runner at
// another path imports and hits every step, a change reruns only what follows it and downloads
// only the layers it needs (counted at the service); small layers travel in one pack entry per
// export; a pull request's read-only token, 429s, 500s, expired download URLs and
// ACTIONS_CACHE_MODE=read.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from './support/azurite.js';
import { tsbuildAsync, type Run } from './support/cli.js';
import { cachedCount, copyCheckout, MARKERS, DOCKERFILE, imageId, ran } from './support/cache-scenario.js';
import { isCI, isRoot } from './support/env.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from './support/gha-cache.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-gha-'));
const checkoutA = join(work, 'runner-a', 'checkout', 'app');


let azurite: Azurite;
let service: GhaCacheService;
let mainToken: string;

/** A build on a runner of its own (state directory `root`), as a job with `env` added. */
async function build(root: string, context: string, out: string, extra: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return tsbuildAsync(
    ['build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, '--metadata-file', `${out}.json`, ...extra, context],
    { env: { ACTIONS_RESULTS_URL: service.url, ACTIONS_RUNTIME_TOKEN: mainToken, ACTIONS_CACHE_MODE: '', ...env } },
  ).done;
}
/** The entries (`prefix`: layer blobs or packs) the service was asked download URLs for since call `n`. */
const downloads = (n: number, prefix: 'tsbuild-blob-' | 'tsbuild-pack-') =>
  service.calls.slice(n).filter((c) => c.method === 'GetCacheEntryDownloadURL' && c.status === 200 && c.key?.startsWith(prefix)).map((c) => c.key!);
const blobEntries = () => service.entries().filter((e) => e.key.startsWith('tsbuild-blob-'));
const packEntries = () => service.entries().filter((e) => e.key.startsWith('tsbuild-pack-'));
const indexEntries = (scope: string) => service.entries().filter((e) => e.key.startsWith(`tsbuild-index:${scope}:`));

const checkout = (to: string, change?: string): string => copyCheckout(checkoutA, to, change);

describe.skipIf(!isRoot && !isCI)('--cache-to / --cache-from type=gha', () => {
  let first: Run;
  const outA = join(work, 'out-a');
  const scope = `tsbuild-default-${process.arch === 'arm64' ? 'linux-arm64' : 'linux-amd64'}`;

  beforeAll(async () => {
    azurite = await startAzurite();
    service = await startGhaCacheService(azurite);
    mainToken = service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]);
    writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
    await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
    first = await build(join(work, 'root-a'), checkoutA, outA, ['--cache-to', 'type=gha,mode=max']);
    expectOk(first);
  }, 300_000);
  afterAll(async () => {
    await service?.close();
    await azurite?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runner A runs every step and exports the base layer as an entry of its own, the five small ones in one pack, and one index entry under the default scope', () => {
    expect(ran(first)).toEqual(MARKERS);
    expect(first.stderr).toContain(`exporting cache to gha:${scope}`);
    // A reservation, upload and finalization each for the base layer, the pack and the index entry.
    expect(first.stderr).toMatch(/^#\d+ requests \(1 layers uploaded, 0 already there, 5 packed\) 9$/m);
    // base (busybox, above the pack threshold); side RUN, RUN first, COPY app.txt, COPY --from, RUN second packed.
    expect(blobEntries()).toHaveLength(1);
    expect(packEntries()).toHaveLength(1);
    expect(indexEntries(scope)).toHaveLength(1);
    for (const e of service.entries()) expect(e).toMatchObject({ finalized: true, scope: 'refs/heads/main' });
  });

  it('a fresh runner at another checkout path hits every step and runs nothing', async () => {
    const out = join(work, 'out-b');
    const before = service.calls.length;
    const r = await build(join(work, 'root-b'), checkout(join(work, 'runner-b', 'src', 'elsewhere')), out, ['--cache-from', 'type=gha']);
    expectOk(r);
    expect(ran(r)).toEqual([]);
    expect(cachedCount(r)).toBeGreaterThanOrEqual(6);
    expect(imageId(out)).toBe(imageId(outA));
    for (const f of ['first', 'side', 'second']) expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(outA, f), 'utf8'));
    // The last step hit: the image's chain of five layers, not the side stage's: the base
    // layer's entry and the pack, read once for the four small layers in it.
    expect(downloads(before, 'tsbuild-blob-')).toHaveLength(1);
    expect(downloads(before, 'tsbuild-pack-')).toHaveLength(1);
  });

  it('after a change to one copied file, only the steps after its COPY run and only the layers they need are downloaded', async () => {
    const out = join(work, 'out-c');
    const before = service.calls.length;
    const r = await build(join(work, 'root-c'), checkout(join(work, 'runner-c', 'app'), 'version 2\n'), out, ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max']);
    expectOk(r);
    expect(ran(r)).toEqual(['RAN-SECOND']);
    expect(readFileSync(join(out, 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(readFileSync(join(out, 'second'), 'utf8')).toMatch(/version 2\n$/);
    // The base, RUN first and the side stage (for COPY --from): the base's entry and the pack.
    expect(downloads(before, 'tsbuild-blob-')).toHaveLength(1);
    expect(downloads(before, 'tsbuild-pack-')).toHaveLength(1);
    // The export packed the two new layers and wrote a second index entry; the others are
    // named where the imported index had them (nothing probed: no CreateCacheEntry but these two).
    expect(blobEntries()).toHaveLength(1);
    expect(packEntries()).toHaveLength(2);
    expect(indexEntries(scope)).toHaveLength(2);
    const created = service.calls.slice(before).filter((c) => c.method === 'CreateCacheEntry').map((c) => c.key ?? '');
    expect(created).toHaveLength(2);
    expect(created[0]).toMatch(/^tsbuild-pack-/);
    expect(created[1]?.startsWith(`tsbuild-index:${scope}:`)).toBe(true);
    // A later import takes the newest index entry: every step hits, version 2 included.
    const again = await build(join(work, 'root-c2'), checkout(join(work, 'runner-c2', 'app'), 'version 2\n'), join(work, 'out-c2'), ['--cache-from', 'type=gha']);
    expectOk(again);
    expect(ran(again)).toEqual([]);
    expect(imageId(join(work, 'out-c2'))).toBe(imageId(out));
  });

  it('a layer the service evicted makes its records misses: those steps run, the others hit', async () => {
    // The pack of the two layers the version-2 export added: COPY app.txt and RUN second.
    await service.evict(packEntries()[1]!.key);
    const out = join(work, 'out-evicted');
    const r = await build(join(work, 'root-evicted'), checkout(join(work, 'runner-ev', 'app'), 'version 2\n'), out, ['--cache-from', 'type=gha']);
    expectOk(r);
    expect(ran(r)).toEqual(['RAN-SECOND']);
    expect(readFileSync(join(out, 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(readFileSync(join(out, 'second'), 'utf8')).toMatch(/version 2\n$/);
  });

  it('many small layers travel in one pack entry; a fresh runner reads the pack once, checks each layer and hits every step', async () => {
    const ctx = checkout(join(work, 'runner-many', 'app'));
    const steps = Array.from({ length: 12 }, (_, i) => `RUN head -c 2000 /dev/urandom > /r${i}`);
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM scratch', 'COPY rootfs/ /', ...steps, ''].join('\n'));
    const packs = packEntries().length;
    const before = service.calls.length;
    const out = join(work, 'out-many');
    const r = await build(join(work, 'root-many'), ctx, out, ['--cache-to', 'type=gha,scope=many,mode=max']);
    expectOk(r);
    expect(r.stderr).toMatch(/^#\d+ requests \(\d+ layers uploaded, \d+ already there, 12 packed\) \d+$/m);
    // Thirteen layers, three entries asked for: the base layer's, one pack and the index entry.
    expect(service.calls.slice(before).filter((c) => c.method === 'CreateCacheEntry')).toHaveLength(3);
    expect(packEntries()).toHaveLength(packs + 1);

    const fresh = service.calls.length;
    const outB = join(work, 'out-many-b');
    const b = await build(join(work, 'root-many-b'), checkout(join(work, 'runner-many-b', 'app')), outB, ['--cache-from', 'type=gha,scope=many', '-f', join(ctx, 'Dockerfile')]);
    expectOk(b);
    expect(cachedCount(b)).toBe(13);
    for (let i = 0; i < 12; i++) expect(readFileSync(join(outB, `r${i}`))).toEqual(readFileSync(join(out, `r${i}`)));
    expect(imageId(outB)).toBe(imageId(out));
    // One lookup for the twelve small layers (the pack, read once), one for the base layer.
    expect(downloads(fresh, 'tsbuild-pack-')).toHaveLength(1);
    expect(downloads(fresh, 'tsbuild-blob-')).toHaveLength(1);
  });

  it('url= and token= stand for $ACTIONS_RESULTS_URL and $ACTIONS_RUNTIME_TOKEN, both ways', async () => {
    const noEnv = { ACTIONS_RESULTS_URL: '', ACTIONS_RUNTIME_TOKEN: '' };
    const endpoint = `url=${service.url},token=${mainToken}`;
    expectOk(await build(join(work, 'root-a'), checkoutA, join(work, 'out-url-a'), ['--cache-to', `type=gha,scope=by-url,mode=max,${endpoint}`], noEnv));
    expect(indexEntries('by-url')).toHaveLength(1);
    const r = await build(join(work, 'root-url-b'), checkout(join(work, 'runner-url-b', 'app')), join(work, 'out-url-b'), ['--cache-from', `type=gha,scope=by-url,${endpoint}`], noEnv);
    expectOk(r);
    expect(ran(r)).toEqual([]);
  });

  it('a pull request\'s read-only token: the export warns "cache write denied" and the build succeeds', async () => {
    const entries = service.entries().length;
    const token = service.token([{ scope: 'refs/heads/main', permission: READ }]);
    const r = await build(join(work, 'root-a'), checkoutA, join(work, 'out-pr'), ['--cache-to', 'type=gha,scope=pr,mode=max'], { ACTIONS_RUNTIME_TOKEN: token });
    expectOk(r);
    expect(r.stderr).toContain('WARNING: exporting cache to gha:pr skipped: cache write denied');
    expect(service.entries()).toHaveLength(entries);
  });

  it('ACTIONS_CACHE_MODE=read exports nothing, write-only imports nothing, each with a warning', async () => {
    const before = service.calls.length;
    const r = await build(join(work, 'root-a'), checkoutA, join(work, 'out-read'), ['--cache-to', 'type=gha,scope=readonly'], { ACTIONS_CACHE_MODE: 'read' });
    expectOk(r);
    expect(r.stderr).toContain('exporting cache to gha:readonly skipped: ACTIONS_CACHE_MODE=read does not allow writing');
    expect(service.calls.length).toBe(before);
    expect(indexEntries('readonly')).toHaveLength(0);
    // write-only: the import is what is skipped; the steps run.
    const w = await build(join(work, 'root-wo'), checkoutA, join(work, 'out-wo'), ['--cache-from', 'type=gha'], { ACTIONS_CACHE_MODE: 'write-only' });
    expectOk(w);
    expect(w.stderr).toContain(`importing cache from gha:${scope} skipped: ACTIONS_CACHE_MODE=write-only does not allow reading`);
    expect(ran(w)).toEqual(MARKERS);
    expect(service.calls.length).toBe(before);
  });

  it('429 with Retry-After is waited out, then the export succeeds; a Retry-After past timeout= fails it', async () => {
    const before = service.calls.length;
    service.failNext(2, { status: 429, retryAfter: 1 }, 'CreateCacheEntry');
    const r = await build(join(work, 'root-a'), checkoutA, join(work, 'out-429'), ['--cache-to', 'type=gha,scope=throttled']);
    expectOk(r);
    const calls = service.calls.slice(before);
    expect(calls.filter((c) => c.status === 429)).toHaveLength(2);
    // Every entry the export asked for was answered in the end (reserved, or there already).
    // The base layer (there already), the pack and the index entry.
    expect(calls.filter((c) => c.method === 'CreateCacheEntry' && c.status !== 429).length).toBe(3);
    expect(indexEntries('throttled')).toHaveLength(1);

    service.failNext(1, { status: 429, retryAfter: 3600 }, 'CreateCacheEntry');
    const late = await build(join(work, 'root-a'), checkoutA, join(work, 'out-429b'), ['--cache-to', 'type=gha,scope=throttled2,timeout=5s']);
    expect(late.status).toBe(1);
    expect(late.stderr).toContain('429 (too many requests) and asks to wait 3600 s, past the timeout');
    // The image outputs are written all the same.
    expect(readFileSync(join(work, 'out-429b', 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(indexEntries('throttled2')).toHaveLength(0);
  });

  it('500 for a while, then the export succeeds and a fresh runner imports it', async () => {
    const before = service.calls.length;
    service.failNext(3, { status: 500 });
    const r = await build(join(work, 'root-a'), checkoutA, join(work, 'out-500'), ['--cache-to', 'type=gha,scope=flaky,mode=max']);
    expectOk(r);
    expect(service.calls.slice(before).filter((c) => c.status === 500)).toHaveLength(3);
    expect(indexEntries('flaky')).toHaveLength(1);
    const b = await build(join(work, 'root-500b'), checkout(join(work, 'runner-500', 'app')), join(work, 'out-500b'), ['--cache-from', 'type=gha,scope=flaky']);
    expectOk(b);
    expect(ran(b)).toEqual([]);
  });

  it('an expired download URL is refused, not trusted: a warning, and the steps run', async () => {
    service.expireDownloadUrls(true);
    try {
      const out = join(work, 'out-expired');
      const r = await build(join(work, 'root-expired'), checkout(join(work, 'runner-e', 'app')), out, ['--cache-from', 'type=gha']);
      expectOk(r);
      expect(r.stderr).toMatch(/WARNING: gha cache import of scope \S+ skipped: .*HTTP 403/);
      expect(ran(r)).toEqual(MARKERS);
      expect(readFileSync(join(out, 'first'), 'utf8')).not.toBe(readFileSync(join(outA, 'first'), 'utf8'));
    } finally {
      service.expireDownloadUrls(false);
    }
  });
});
