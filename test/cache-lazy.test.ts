// The lazy import of a registry cache, end to end against a real registry (Debian's
// docker-registry on loopback): a hit reads only the cache's records; its layers are read
// when a step that misses or an output needs them. Layer downloads are counted in the
// registry's own access log; the state directories' snapshots are counted on disk.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync, type Run } from './support/cli.js';
import { cachedCount, copyCheckout, DOCKERFILE, imageId, MARKERS, ran } from './support/cache-scenario.js';
import { isCI, isRoot } from './support/env.js';
import { umociUnpack } from './support/oci.js';
import { blobGets, served, startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-lazy-'));
const checkoutA = join(work, 'runner-a', 'app');

/** A build with plain progress, its metadata in `${meta}.json`, and the given outputs and flags. */
function build(root: string, context: string, meta: string, extra: readonly string[]): Run {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', '--metadata-file', `${meta}.json`, ...extra, context]);
}

interface Manifest {
  config: { digest: string };
  layers: { mediaType: string; digest: string }[];
}

/** The snapshots a state directory holds (committed or not). */
const snapshots = (root: string): string[] => readdirSync(join(root, 'snapshots')).filter((n) => !n.startsWith('.'));

describe.skipIf(!isRoot && !isCI)('lazy import of a registry cache', () => {
  let registry: TestRegistry;
  let cacheRef: string;
  let imageA: string;
  const outA = join(work, 'out-a');

  /** The manifest at `ref` as skopeo reads it from the registry, raw. */
  const raw = (ref: string): string => {
    const r = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`skopeo inspect failed: ${r.stderr}`);
    return r.stdout;
  };
  const manifest = (ref: string): Manifest => JSON.parse(raw(ref)) as Manifest;
  const during = (f: () => Run) => served(registry, f);
  /** The blobs GET answered with their bytes (a 307 to storage would count too). */
  /** Every layer the cache holds. */
  const cacheLayers = (): string[] => manifest(cacheRef).layers.map((l) => l.digest);

  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    cacheRef = `${registry.host}/ci/cache:max`;
    imageA = `${registry.host}/app/a:1`;
    writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
    await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
    // Runner A: every step runs; the image is pushed and the cache exported, both to the registry.
    const first = build(join(work, 'root-a'), checkoutA, outA, [
      '-o', `type=local,dest=${outA}`, '-o', `type=registry,name=${imageA}`, '--cache-to', `type=registry,ref=${cacheRef},mode=max`,
    ]);
    expectOk(first);
    expect(ran(first)).toEqual(MARKERS);
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('every step hits and the image is pushed to another repository of the cache registry: no layer is downloaded, none unpacked', () => {
    const root = join(work, 'root-b');
    const imageB = `${registry.host}/app/b:1`;
    const againRef = `${registry.host}/ci/again:min`;
    const meta = join(work, 'meta-b');
    const { r, requests } = during(() =>
      build(root, copyCheckout(checkoutA, join(work, 'runner-b', 'elsewhere')), meta, [
        '--cache-from', cacheRef, '-o', `type=registry,name=${imageB}`, '--cache-to', `type=registry,ref=${againRef}`,
      ]),
    );
    expectOk(r);
    expect(ran(r)).toEqual([]);
    expect(cachedCount(r)).toBeGreaterThanOrEqual(6);
    // The records (the cache's config blob) are read; no layer blob at all.
    expect(blobGets(requests)).toEqual([manifest(cacheRef).config.digest]);
    expect(r.stderr).not.toContain('reading layer');
    expect(snapshots(root)).toEqual([]);
    // The image's layers were mounted from the cache's repository, not uploaded.
    const layers = manifest(imageB).layers.map((l) => l.digest);
    const mounted = requests
      .filter((q) => q.method === 'POST' && q.uri.includes('/v2/app/b/blobs/uploads/?') && q.status === 201)
      .map((q) => new URLSearchParams(q.uri.slice(q.uri.indexOf('?') + 1)));
    expect(mounted.map((q) => q.get('mount')).sort()).toEqual([...layers].sort());
    // From the cache's repository, or from ci/again when the cache export, which overlaps the
    // build, has mounted a blob there first (the latest known source is taken): either way a mount.
    for (const q of mounted) expect(['ci/cache', 'ci/again']).toContain(q.get('from'));
    // The same image as A's, byte for byte: manifest, config (the image ID) and layers.
    expect(raw(imageB)).toBe(raw(imageA));
    expect(imageId(meta)).toBe(imageId(outA));
    // The cache exported again lists the same blobs, none compressed again nor read.
    expect(manifest(againRef).layers.map((l) => l.digest).sort()).toEqual([...layers].sort());
  });

  it('into the local store (type=image), the blobs are fetched, not unpacked, and a later FROM of the image unpacks them', () => {
    const root = join(work, 'root-e');
    const meta = join(work, 'meta-e');
    const { r, requests } = during(() => build(root, copyCheckout(checkoutA, join(work, 'runner-e', 'app')), meta, ['--cache-from', cacheRef, '-t', 'lazy-store:1']));
    expectOk(r);
    expect(ran(r)).toEqual([]);
    const chain = manifest(imageA).layers.map((l) => l.digest);
    expect(blobGets(requests).filter((d) => cacheLayers().includes(d)).sort()).toEqual([...chain].sort());
    expect(snapshots(root)).toEqual([]);
    expect(imageId(meta)).toBe(imageId(outA));
    // The stored image is whole: a build on it reads A's files.
    const next = join(work, 'next-e');
    writeContext(next, { Dockerfile: 'FROM lazy-store:1\nRUN cat /first /side > /both\n' });
    const out = join(work, 'out-e');
    expectOk(build(root, next, out, ['-o', `type=local,dest=${out}`]));
    expect(readFileSync(join(out, 'both'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8') + readFileSync(join(outA, 'side'), 'utf8'));
  });

  it('with -o type=oci the chain\'s blobs are downloaded, each once, and nothing is unpacked', () => {
    const root = join(work, 'root-c');
    const layout = join(work, 'layout-c');
    const { r, requests } = during(() =>
      build(root, copyCheckout(checkoutA, join(work, 'runner-c', 'app')), layout, ['--cache-from', cacheRef, '-o', `type=oci,dest=${layout},tar=false,name=lazy:1`]),
    );
    expectOk(r);
    expect(ran(r)).toEqual([]);
    const chain = manifest(imageA).layers.map((l) => l.digest);
    expect(blobGets(requests).filter((d) => cacheLayers().includes(d)).sort()).toEqual([...chain].sort());
    expect(snapshots(root)).toEqual([]);
    expect(imageId(layout)).toBe(imageId(outA));
    // The layout is whole: skopeo reads it, umoci unpacks it, and its files are A's.
    // The layout names the image by its tag, as BuildKit's OCI exporter does.
    const inspected = spawnSync('skopeo', ['inspect', `oci:${layout}:1`], { encoding: 'utf8' });
    expect(inspected.status, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as { Layers: string[] }).Layers).toEqual(chain);
    const bundle = umociUnpack(layout, '1', join(work, 'bundle-c'));
    for (const f of ['first', 'side', 'second']) expect(readFileSync(join(bundle, 'rootfs', f), 'utf8')).toBe(readFileSync(join(outA, f), 'utf8'));
  });

  it('a RUN that misses and bind-mounts a stage that hit unpacks that stage (its content keys the RUN, its files are mounted): only its layers are downloaded', () => {
    const src = join(work, 'bind-a');
    writeContext(src, {
      Dockerfile: [
        'FROM scratch AS base',
        'COPY rootfs/ /',
        'FROM base AS side',
        'RUN echo RAN-SIDE && head -c 32 /dev/urandom | sha256sum > /side',
        'FROM base',
        'COPY app.txt /app.txt',
        'RUN --mount=type=bind,from=side,source=/side,target=/m echo RAN-BIND && cat /m /app.txt > /bound',
        '',
      ].join('\n'),
      'app.txt': 'version 1\n',
    });
    copyCheckout(join(checkoutA, 'rootfs'), join(src, 'rootfs'));
    const ref = `${registry.host}/ci/bind:max`;
    const outBindA = join(work, 'out-bind-a');
    const imageBind = `${registry.host}/app/bind:1`;
    expectOk(build(join(work, 'root-bind-a'), src, outBindA, ['-o', `type=local,dest=${outBindA}`, '-o', `type=registry,name=${imageBind}`, '--cache-to', `type=registry,ref=${ref},mode=max`]));
    const layers = manifest(ref).layers.map((l) => l.digest);
    const imageLayers = manifest(imageBind).layers.map((l) => l.digest);
    const out = join(work, 'out-bind-b');
    const { r, requests } = during(() =>
      build(join(work, 'root-bind-b'), copyCheckout(src, join(work, 'bind-b'), 'version 2\n'), out, ['--cache-from', ref, '-o', `type=local,dest=${out}`]),
    );
    expectOk(r);
    expect(r.stderr).toMatch(/^#\d+ [\d.]+ RAN-BIND$/m);
    expect(r.stderr).not.toMatch(/^#\d+ [\d.]+ RAN-SIDE$/m);
    // The side stage's random bytes are A's (its RUN did not run again), app.txt is the new one.
    const boundA = readFileSync(join(outBindA, 'bound'), 'utf8');
    expect(boundA).toMatch(/^[0-9a-f]{64}  -\nversion 1\n$/);
    expect(readFileSync(join(out, 'bound'), 'utf8')).toBe(boundA.replace('version 1', 'version 2'));
    // Downloaded: the base (under the COPY that missed) and the side stage's layer (its content
    // keys the RUN); not A's COPY and RUN layers.
    expect(layers).toHaveLength(4);
    const sideLayer = layers.find((l) => !imageLayers.includes(l))!;
    expect(blobGets(requests).filter((d) => layers.includes(d)).sort()).toEqual([imageLayers[0]!, sideLayer].sort());
  });

  it('after a change to one copied file, pushed: only the layers the steps that run need are downloaded', () => {
    const root = join(work, 'root-d');
    const imageD = `${registry.host}/app/d:1`;
    const meta = join(work, 'meta-d');
    const top = manifest(imageA).layers.map((l) => l.digest);
    const sideLayer = cacheLayers().find((l) => !top.includes(l))!;
    const { r, requests } = during(() =>
      build(root, copyCheckout(checkoutA, join(work, 'runner-d', 'app'), 'version 2\n'), meta, ['--cache-from', cacheRef, '-o', `type=registry,name=${imageD}`]),
    );
    expectOk(r);
    expect(ran(r)).toEqual(['RAN-SECOND']);
    // The base and RUN first (under the COPY that missed) and the side stage (COPY --from):
    // nothing of the steps above them.
    expect(blobGets(requests).filter((d) => cacheLayers().includes(d)).sort()).toEqual([top[0]!, top[1]!, sideLayer].sort());
    // The image: A's layers under the changed COPY, new ones from it on, its file changed.
    const layers = manifest(imageD).layers.map((l) => l.digest);
    expect(layers.slice(0, 2)).toEqual(top.slice(0, 2));
    expect(layers[2]).not.toBe(top[2]);
    const layout = join(work, 'layout-d');
    const copied = spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${imageD}`, `oci:${layout}:d`], { encoding: 'utf8' });
    expect(copied.status, copied.stderr).toBe(0);
    const bundle = umociUnpack(layout, 'd', join(work, 'bundle-d'));
    expect(readFileSync(join(bundle, 'rootfs', 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(readFileSync(join(bundle, 'rootfs', 'second'), 'utf8')).toMatch(/version 2\n$/);
  });
});
