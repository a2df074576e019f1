// --cache-to / --cache-from type=local end to end, shaped like CI: a build on one runner
// exports its cache; a fresh runner (empty state directory, the checkout at another path)
// imports it, hits every step, and after a change reads only the layers the rerun needs.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync, type Run } from './support/cli.js';
import { cachedCount, copyCheckout, MARKERS, imageId, ran } from './support/cache-scenario.js';
import { isCI, isRoot } from './support/env.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-local-'));
const cacheDir = join(work, 'ci-cache');
const checkoutA = join(work, 'runner-a', 'checkout', 'app');

const DOCKERFILE = [
  'FROM scratch AS base',
  'COPY rootfs/ /',
  'FROM base AS side',
  // Its layer holds more than the file COPY --from takes: the two layers differ.
  'RUN echo RAN-SIDE && head -c 32 /dev/urandom | sha256sum > /side && echo side only > /side-only',
  'FROM base',
  // A cache mount's id and a bind of the context are in keys as names, never as host paths.
  'RUN --mount=type=cache,target=/cache echo RAN-FIRST >> /cache/log && echo RAN-FIRST && head -c 32 /dev/urandom | sha256sum > /first',
  'COPY app.txt /app.txt',
  'COPY --from=side /side /side',
  'RUN --mount=type=bind,source=app.txt,target=/src/app.txt echo RAN-SECOND && head -c 32 /dev/urandom | sha256sum > /second && cat /src/app.txt >> /second',
  '',
].join('\n');

/**
 * A build on a runner of its own: state directory `root`, the files into `out`, the image
 * into the local store (its ID in the metadata file `out.json`).
 */
function build(root: string, context: string, out: string, extra: readonly string[]): Run {
  return tsbuildSync([
    'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, '-o', 'type=image,name=cache-test:latest', '--metadata-file', `${out}.json`,
    ...extra, context,
  ]);
}

/** Layers the imports read from the cache (one progress line each). */
const layersRead = (r: Run) => [...r.stderr.matchAll(/^#\d+ reading layer (sha256:[0-9a-f]{64}) /gm)].map((m) => m[1]!);
/** The names of the steps that finished by running (DONE), not from the cache. */
function doneSteps(r: Run): string[] {
  const names = new Map<string, string>();
  const done: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (m === null) continue;
    if (!names.has(m[1]!)) names.set(m[1]!, m[2]!);
    if (/^DONE [\d.]+s$/.test(m[2]!)) done.push(names.get(m[1]!)!);
  }
  return done;
}

interface Layout {
  manifests: { digest: string; annotations: Record<string, string> }[];
}
const blobPath = (dir: string, digest: string) => join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
/** The cache's records (key → layer digests) and every blob the layout's manifests name. */
function readCache(dir: string): { records: Map<string, string[]>; layers: string[]; referenced: Set<string> } {
  const index = readJson<Layout>(join(dir, 'index.json'));
  const referenced = new Set<string>();
  let records = new Map<string, string[]>();
  let layers: string[] = [];
  for (const entry of index.manifests) {
    const m = readJson<{ config: { digest: string }; layers: { digest: string }[] }>(blobPath(dir, entry.digest));
    for (const d of [entry.digest, m.config.digest, ...m.layers.map((l) => l.digest)]) referenced.add(d);
    if (entry.annotations['org.opencontainers.image.ref.name'] !== 'latest') continue;
    const config = readJson<{ records: { key: string; layers: number[] }[] }>(blobPath(dir, m.config.digest));
    layers = m.layers.map((l) => l.digest);
    records = new Map(config.records.map((r) => [r.key, r.layers.map((i) => layers[i]!)]));
  }
  return { records, layers, referenced };
}
const storedBlobs = (dir: string) => new Set(readdirSync(join(dir, 'blobs', 'sha256')).map((h) => `sha256:${h}`));

const checkout = (to: string, change?: string): string => copyCheckout(checkoutA, to, change);

describe.skipIf(!isRoot && !isCI)('--cache-to / --cache-from type=local', () => {
  let first: Run;
  const outA = join(work, 'out-a');
  const minDir = join(work, 'ci-cache-min');

  beforeAll(async () => {
    writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
    await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
    // Runner A: a fresh state directory, every step runs; max and min caches exported.
    first = build(join(work, 'root-a'), checkoutA, outA, [
      '--cache-to', `type=local,dest=${cacheDir},mode=max`,
      '--cache-to', `type=local,dest=${minDir}`,
    ]);
    expectOk(first);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runner A runs every step and exports every step (mode=max), or the final chain only (mode=min)', () => {
    expect(ran(first)).toEqual(MARKERS);
    expect(imageId(outA)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doneSteps(first)).toEqual(expect.arrayContaining([`exporting cache to local:${cacheDir}`, `exporting cache to local:${minDir}`]));
    const max = readCache(cacheDir);
    const min = readCache(minDir);
    // The image's chain: base (COPY rootfs), RUN first, COPY app.txt, COPY --from, RUN second.
    const top = [...min.records.values()].reduce((a, b) => (b.length > a.length ? b : a));
    expect(top).toHaveLength(5);
    // mode=min: each record is the chain of a step of the image's chain (FROM scratch: empty).
    for (const chain of min.records.values()) expect(top.slice(0, chain.length)).toEqual(chain);
    expect(min.layers.sort()).toEqual([...top].sort());
    // mode=max also has the side stage's RUN, whose layer is not in the image.
    expect(max.records.size).toBeGreaterThan(min.records.size);
    for (const [key, chain] of min.records) expect(max.records.get(key)).toEqual(chain);
    const side = [...max.records.values()].filter((c) => c.length === 2 && !top.includes(c[1]!));
    expect(side).toHaveLength(1);
    expect(max.layers).toHaveLength(6);
    // Exactly the blobs the manifest names: nothing else in the layout.
    expect(storedBlobs(cacheDir)).toEqual(max.referenced);
  });

  it('a fresh runner at another checkout path hits every step from the cache and runs nothing', () => {
    const out = join(work, 'out-b');
    const r = build(join(work, 'root-b'), checkout(join(work, 'runner-b', 'src', 'elsewhere')), out, [
      '--cache-from', `type=local,src=${join(work, 'no-such-cache')}`,
      '--cache-from', `type=local,src=${cacheDir}`,
    ]);
    expectOk(r);
    // As BuildKit: a cache that is not there is a warning.
    expect(r.stderr).toContain(`WARNING: local cache import at ${join(work, 'no-such-cache')} not found`);
    expect(ran(r)).toEqual([]);
    expect(doneSteps(r).sort()).toEqual([`importing cache manifest from local:${cacheDir}`, `importing cache manifest from local:${join(work, 'no-such-cache')}`].sort());
    // COPY rootfs, the side RUN, RUN first, COPY app.txt, COPY --from, RUN second.
    expect(cachedCount(r)).toBeGreaterThanOrEqual(6);
    // The image's files are the ones runner A made (random bytes: not made again).
    for (const f of ['first', 'side', 'second']) expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(outA, f), 'utf8'));
    // The last step hit: its result is the image, so its whole chain was read, and nothing else.
    expect(layersRead(r).sort()).toEqual([...readCache(minDir).layers].sort());
    // The layers keep the times the steps made them: the same image, to the byte.
    expect(imageId(out)).toBe(imageId(outA));
  });

  it('after a change to one copied file, only the steps after its COPY run and only the layers they need are read', () => {
    const out = join(work, 'out-c');
    const cache = readCache(cacheDir);
    const before = storedBlobs(cacheDir);
    const r = build(join(work, 'root-c'), checkout(join(work, 'runner-c', 'app'), 'version 2\n'), out, [
      '--cache-from', `type=local,src=${cacheDir}`,
      '--cache-to', `type=local,dest=${cacheDir},mode=max`,
    ]);
    expectOk(r);
    expect(ran(r)).toEqual(['RAN-SECOND']);
    expect(readFileSync(join(out, 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(readFileSync(join(out, 'side'), 'utf8')).toBe(readFileSync(join(outA, 'side'), 'utf8'));
    expect(readFileSync(join(out, 'second'), 'utf8')).toMatch(/version 2\n$/);
    expect(imageId(out)).not.toBe(imageId(outA));
    // Read: the base, RUN first (under the COPY that missed) and the side stage (COPY --from);
    // not the old COPY app.txt, COPY --from and RUN second layers.
    const read = layersRead(r);
    expect(read).toHaveLength(3);
    const top = [...readCache(minDir).records.values()].reduce((a, b) => (b.length > a.length ? b : a));
    const sideLayer = cache.layers.find((l) => !top.includes(l))!;
    expect(read.sort()).toEqual([top[0]!, top[1]!, sideLayer].sort());
    // The export replaced the cache whole: the old last layer is gone, nothing unreferenced stays.
    const after = readCache(cacheDir);
    expect(storedBlobs(cacheDir)).toEqual(after.referenced);
    expect(after.referenced.has(top[4]!)).toBe(false);
    expect(before.has(top[4]!)).toBe(true);
    expect(readdirSync(work).filter((n) => n.startsWith('.ci-cache'))).toEqual([]);
  });

  it('exports zstd layers when asked, and a fresh runner imports them', () => {
    const zstd = join(work, 'ci-cache-zstd');
    expectOk(build(join(work, 'root-a'), checkoutA, join(work, 'out-zstd-a'), ['--cache-to', `type=local,dest=${zstd},compression=zstd`]));
    const index = readJson<Layout>(join(zstd, 'index.json'));
    const manifest = readJson<{ layers: { mediaType: string }[] }>(blobPath(zstd, index.manifests[0]!.digest));
    expect(new Set(manifest.layers.map((l) => l.mediaType))).toEqual(new Set(['application/vnd.oci.image.layer.v1.tar+zstd']));
    const out = join(work, 'out-zstd-b');
    const r = build(join(work, 'root-zstd'), checkout(join(work, 'runner-z', 'app')), out, ['--cache-from', `type=local,src=${zstd}`]);
    expectOk(r);
    expect(ran(r)).toEqual([]);
    expect(layersRead(r)).toHaveLength(5);
    expect(imageId(out)).toBe(imageId(outA));
  });

  it('tag= names the export in the layout, beside the other tags; --cache-from takes tag= or digest=', () => {
    const dir = join(work, 'ci-cache-tags');
    // Runner A's state directory: every step hits and is recorded under each tag.
    expectOk(build(join(work, 'root-a'), checkoutA, join(work, 'out-tag-a'), ['--cache-to', `type=local,dest=${dir},mode=max,tag=main`]));
    expectOk(build(join(work, 'root-a'), checkoutA, join(work, 'out-tag-b'), ['--cache-to', `type=local,dest=${dir},tag=pr-1`]));
    const index = readJson<Layout>(join(dir, 'index.json'));
    const byTag = new Map(index.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]));
    expect([...byTag.keys()].sort()).toEqual(['main', 'pr-1']);
    // A tag the layout does not have is a warning; the steps run.
    const none = build(join(work, 'root-tag-none'), checkout(join(work, 'runner-tag-none', 'app')), join(work, 'out-tag-none'), ['--cache-from', `type=local,src=${dir},tag=nope`]);
    expectOk(none);
    expect(none.stderr).toContain(`local cache import at ${dir} skipped: no digest found for tag nope`);
    expect(ran(none)).toEqual(MARKERS);
    for (const from of [`tag=main`, `digest=${byTag.get('main')!}`]) {
      const r = build(join(work, `root-tag-${from.slice(0, 3)}`), checkout(join(work, `runner-tag-${from.slice(0, 3)}`, 'app')), join(work, `out-tag-${from.slice(0, 3)}`), ['--cache-from', `type=local,src=${dir},${from}`]);
      expectOk(r);
      expect(ran(r)).toEqual([]);
    }
  });

  it('a failed export fails the build after the outputs are written; ignore-error=true makes it a warning', () => {
    const notADir = join(work, 'cache-file');
    writeFileSync(notADir, 'a file, not a cache directory');
    const out = join(work, 'out-fail');
    const failed = build(join(work, 'root-a'), checkoutA, out, ['--cache-to', `type=local,dest=${notADir}`]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`cannot export the cache to ${notADir}: it is not a directory`);
    expect(existsSync(join(out, 'first'))).toBe(true);
    expect(readFileSync(notADir, 'utf8')).toBe('a file, not a cache directory');
    const ignored = build(join(work, 'root-a'), checkoutA, join(work, 'out-ignored'), ['--cache-to', `type=local,dest=${notADir},ignore-error=true`]);
    expectOk(ignored);
    expect(ignored.stderr).toContain(`WARNING: cannot export the cache to ${notADir}: it is not a directory (ignored: ignore-error=true)`);
  });
});
