// --cache-to / --cache-from type=registry end to end, shaped like CI, against a real registry
// (Debian's docker-registry on loopback): runner A exports its cache to the registry; a fresh
// runner (empty state directory, the checkout at another path) imports it, hits every step, and
// after a change downloads only the layers the rerun needs — counted in the registry's own
// access log.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from './support/certs.js';
import { run, tsbuildSync, type Run } from './support/cli.js';
import { cachedCount, copyCheckout, MARKERS, DOCKERFILE, imageId, ran } from './support/cache-scenario.js';
import { isCI, isRoot } from './support/env.js';
import { blobGets, served, startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-registry-'));
const checkoutA = join(work, 'runner-a', 'checkout', 'app');


function build(root: string, context: string, out: string, extra: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  return tsbuildSync([
    'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, '-o', 'type=image,name=cache-test:latest', '--metadata-file', `${out}.json`,
    ...extra, context,
  ], { env });
}

const checkout = (to: string, change?: string): string => copyCheckout(checkoutA, to, change);

interface Manifest {
  mediaType: string;
  artifactType?: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string }[];
}

describe.skipIf(!isRoot && !isCI)('--cache-to / --cache-from type=registry', () => {
  let registry: TestRegistry;
  let first: Run;
  const outA = join(work, 'out-a');
  let maxRef: string;
  let minRef: string;

  /** The pushed manifest, as skopeo reads it from the registry. */
  const inspect = (ref: string): Manifest => {
    const r = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`skopeo inspect failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Manifest;
  };
  /** The records of the cache at `ref`: its config blob, straight from the registry. */
  const records = async (ref: string): Promise<string[][]> => {
    const m = inspect(ref);
    const res = await fetch(`http://${registry.host}/v2/cache/blobs/${m.config.digest}`);
    const config = (await res.json()) as { records: { layers: number[] }[] };
    return config.records.map((r) => r.layers.map((i) => m.layers[i]!.digest));
  };
  const during = (f: () => Run) => served(registry, f);

  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    maxRef = `${registry.host}/cache:max`;
    minRef = `${registry.host}/cache:min`;
    writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
    await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
    // Runner A: every step runs; the max cache and (a bare reference: type=registry) the min one.
    first = build(join(work, 'root-a'), checkoutA, outA, ['--cache-to', `type=registry,ref=${maxRef},mode=max`, '--cache-to', minRef]);
    expectOk(first);
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runner A pushes an OCI artifact manifest: mode=max every step, mode=min the final chain', async () => {
    expect(ran(first)).toEqual(MARKERS);
    for (const ref of [maxRef, minRef]) {
      const m = inspect(ref);
      expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(m.artifactType).toBe('application/vnd.tsbuild.cache.v1');
      expect(m.config.mediaType).toBe('application/vnd.tsbuild.cache.config.v1+json');
      expect(new Set(m.layers.map((l) => l.mediaType))).toEqual(new Set(['application/vnd.oci.image.layer.v1.tar+gzip']));
    }
    const min = await records(minRef);
    const top = min.reduce((a, b) => (b.length > a.length ? b : a));
    expect(top).toHaveLength(5);
    for (const chain of min) expect(top.slice(0, chain.length)).toEqual(chain);
    expect(inspect(minRef).layers.map((l) => l.digest).sort()).toEqual([...top].sort());
    // mode=max also holds the side stage's RUN, whose layer is not in the image.
    const max = inspect(maxRef);
    expect(max.layers).toHaveLength(6);
    expect((await records(maxRef)).length).toBeGreaterThan(min.length);
  });

  it('a fresh runner at another checkout path hits every step, runs nothing, and downloads only the image chain', async () => {
    const out = join(work, 'out-b');
    const { r, requests } = during(() =>
      build(join(work, 'root-b'), checkout(join(work, 'runner-b', 'src', 'elsewhere')), out, [
        '--cache-from', `${registry.host}/cache:no-such-tag`,
        '--cache-from', `type=registry,ref=${maxRef}`,
      ]),
    );
    expectOk(r);
    // As buildx: a cache that is not there is a warning.
    expect(r.stderr).toContain(`WARNING: registry cache import from ${registry.host}/cache:no-such-tag skipped: not found`);
    expect(ran(r)).toEqual([]);
    expect(cachedCount(r)).toBeGreaterThanOrEqual(6);
    for (const f of ['first', 'side', 'second']) expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(outA, f), 'utf8'));
    expect(imageId(out)).toBe(imageId(outA));
    // The last step hit: its chain (the min cache's layers) was downloaded, each once, nothing else.
    const maxLayers = inspect(maxRef).layers.map((l) => l.digest);
    const chain = inspect(minRef).layers.map((l) => l.digest);
    expect(blobGets(requests, maxLayers).sort()).toEqual([...chain].sort());
  });

  it('after a change to one copied file, only the steps after its COPY run and only the layers they need are downloaded', async () => {
    const out = join(work, 'out-c');
    const old = inspect(maxRef).layers.map((l) => l.digest);
    const top = (await records(minRef)).reduce((a, b) => (b.length > a.length ? b : a));
    const sideLayer = old.find((l) => !top.includes(l))!;
    const { r, requests } = during(() =>
      build(join(work, 'root-c'), checkout(join(work, 'runner-c', 'app'), 'version 2\n'), out, [
        '--cache-from', `type=registry,ref=${maxRef}`,
        '--cache-to', `type=registry,ref=${maxRef},mode=max`,
      ]),
    );
    expectOk(r);
    expect(ran(r)).toEqual(['RAN-SECOND']);
    expect(readFileSync(join(out, 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(readFileSync(join(out, 'second'), 'utf8')).toMatch(/version 2\n$/);
    // Downloaded: the base, RUN first (under the COPY that missed) and the side stage (COPY --from).
    expect(blobGets(requests, old).sort()).toEqual([top[0]!, top[1]!, sideLayer].sort());
    // The re-export: the blobs the old cache listed are not probed again; the new layers and
    // the new records (config) are.
    const pushed = inspect(maxRef);
    const now = pushed.layers.map((l) => l.digest);
    const heads = requests.filter((q) => q.method === 'HEAD' && q.uri.includes('/blobs/')).map((q) => q.uri.slice(q.uri.lastIndexOf('/') + 1));
    expect(heads.filter((d) => old.includes(d))).toEqual([]);
    expect(heads.sort()).toEqual([...now.filter((d) => !old.includes(d)), pushed.config.digest].sort());
    expect(now).not.toEqual(old);
  });

  it('image-manifest=false writes an OCI index of the blobs, oci-mediatypes=false a Docker manifest list (as BuildKit); a fresh runner hits every step from either', () => {
    const forms = [
      { ref: `${registry.host}/cache:index`, keys: 'image-manifest=false', mediaType: 'application/vnd.oci.image.index.v1+json', layer: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { ref: `${registry.host}/cache:docker`, keys: 'oci-mediatypes=false', mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip' },
    ];
    for (const { ref, keys, mediaType, layer } of forms) {
      // Runner A's state directory: every step hits, and the export writes every record it read.
      expectOk(build(join(work, 'root-a'), checkoutA, join(work, `out-form-${keys}`), ['--cache-to', `type=registry,ref=${ref},mode=max,${keys}`]));
      const top = inspect(ref) as unknown as { mediaType: string; artifactType?: string; manifests: { mediaType: string }[] };
      expect(top.mediaType).toBe(mediaType);
      expect(top.artifactType).toBe(mediaType.includes('oci') ? 'application/vnd.tsbuild.cache.v1' : undefined);
      const types = top.manifests.map((d) => d.mediaType);
      expect(types.filter((t) => t === 'application/vnd.tsbuild.cache.config.v1+json')).toHaveLength(1);
      expect(new Set(types.filter((t) => !t.includes('tsbuild')))).toEqual(new Set([layer]));
      const out = join(work, `out-form-fresh-${keys}`);
      const r = build(join(work, `root-form-${keys}`), checkout(join(work, `runner-form-${keys}`, 'app')), out, ['--cache-from', ref]);
      expectOk(r);
      expect(ran(r)).toEqual([]);
      expect(readFileSync(join(out, 'second'), 'utf8')).toBe(readFileSync(join(outA, 'second'), 'utf8'));
    }
  });

  it('a failed export (registry stopped) fails the build after the outputs are written; ignore-error=true makes it a warning', async () => {
    const gone = await startRegistry(join(work, 'registry-gone'));
    await gone.stop();
    const ref = `${gone.host}/cache:ci`;
    const out = join(work, 'out-fail');
    const failed = build(join(work, 'root-a'), checkoutA, out, ['--cache-to', `type=registry,ref=${ref}`]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`cannot reach http://${gone.host}`);
    expect(existsSync(join(out, 'first'))).toBe(true);
    expect(imageId(out)).toBe(imageId(outA));
    const ignored = build(join(work, 'root-a'), checkoutA, join(work, 'out-ignored'), ['--cache-to', `type=registry,ref=${ref},ignore-error=true`]);
    expectOk(ignored);
    expect(ignored.stderr).toMatch(/WARNING: .*cannot reach .*\(ignored: ignore-error=true\)/);
  });

  it('an import from a registry that cannot be reached is a warning, as BuildKit has it: the build runs every step', async () => {
    const gone = await startRegistry(join(work, 'registry-import-gone'));
    await gone.stop();
    const r = build(join(work, 'root-import-gone'), checkoutA, join(work, 'out-import-gone'), ['--cache-from', `type=registry,ref=${gone.host}/cache:ci`]);
    expectOk(r);
    expect(ran(r)).toEqual(MARKERS);
    expect(r.stderr).toMatch(new RegExp(`WARNING: importing cache from registry:${gone.host}/cache:ci failed, building without it: .*cannot reach http://${gone.host}`));
    // The import's step shows as failed, as BuildKit's does.
    expect(r.stderr).toMatch(new RegExp(`^#\\d+ importing cache manifest from registry:${gone.host}/cache:ci\n#\\d+ ERROR`, 'm'));
    // Made anew (its random bytes differ from runner A's), not taken from anywhere.
    expect(readFileSync(join(work, 'out-import-gone', 'second'), 'utf8')).not.toBe(readFileSync(join(outA, 'second'), 'utf8'));
  });

  it('uses the saved credentials (docker config.json) both ways, as pushes and pulls do', async () => {
    const hash = run('htpasswd', ['-Bbn', 'alice', 'cache-secret']);
    expect(hash.status).toBe(0);
    const guarded = await startRegistry(join(work, 'registry-auth'), { htpasswd: hash.stdout });
    try {
      const dockerConfig = join(work, 'docker-config');
      mkdirSync(dockerConfig, { recursive: true });
      writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [guarded.host]: { auth: Buffer.from('alice:cache-secret').toString('base64') } } }));
      const ref = `${guarded.host}/team/cache:main`;
      const env = { DOCKER_CONFIG: dockerConfig };
      expectOk(build(join(work, 'root-a'), checkoutA, join(work, 'out-auth-a'), ['--cache-to', `type=registry,ref=${ref},mode=max`], env));
      // Without the credentials the registry refuses the import: as BuildKit has it, a warning
      // that says why (not a silent miss), and the build runs without the cache.
      const anonymous = build(join(work, 'root-auth-anon'), checkoutA, join(work, 'out-auth-anon'), ['--cache-from', ref], { DOCKER_CONFIG: join(work, 'no-docker-config') });
      expectOk(anonymous);
      expect(anonymous.stderr).toMatch(new RegExp(`WARNING: importing cache from registry:${ref} failed, building without it: .*${guarded.host} requires authentication`));
      expect(ran(anonymous)).toEqual(MARKERS);
      const out = join(work, 'out-auth-b');
      const r = build(join(work, 'root-auth-b'), checkout(join(work, 'runner-auth', 'app')), out, ['--cache-from', ref], env);
      expectOk(r);
      expect(ran(r)).toEqual([]);
      expect(imageId(out)).toBe(imageId(outA));
    } finally {
      await guarded.stop();
    }
  });

  it('an export to a repository of the registry the image was pushed to mounts the layers instead of uploading them', () => {
    const root = join(work, 'root-mount');
    expectOk(build(root, checkoutA, join(work, 'out-mount-push'), ['-o', `type=image,name=${registry.host}/mounted/app:1,push=true`]));
    const { r, requests } = during(() => build(root, checkoutA, join(work, 'out-mount'), ['--cache-to', `${registry.host}/mounted/cache:min`]));
    expectOk(r);
    const layers = inspect(`${registry.host}/mounted/cache:min`).layers.map((l) => l.digest);
    expect(layers).toHaveLength(5);
    const mounted = requests
      .filter((q) => q.method === 'POST' && q.uri.includes('/v2/mounted/cache/blobs/uploads/?') && q.status === 201)
      .map((q) => new URLSearchParams(q.uri.slice(q.uri.indexOf('?') + 1)));
    expect(mounted.map((q) => q.get('from'))).toEqual(layers.map(() => 'mounted/app'));
    expect(mounted.map((q) => q.get('mount')).sort()).toEqual([...layers].sort());
    // Only the config blob (the records) was uploaded.
    expect(requests.filter((q) => q.method === 'PUT' && q.uri.includes('/blobs/uploads/'))).toHaveLength(1);
  });

  it('reaches a registry behind TLS with --registry-ca, both ways', async () => {
    const certs = makeCertificates(work, 'cache-registry');
    const secure = await startRegistry(join(work, 'registry-tls'), { tls: { cert: certs.cert, key: certs.key } });
    try {
      const ref = `${secure.host}/cache:tls`;
      const ca = ['--registry-ca', `${secure.host}=${certs.ca}`];
      expectOk(build(join(work, 'root-a'), checkoutA, join(work, 'out-tls-a'), [...ca, '--cache-to', `type=registry,ref=${ref},mode=max`]));
      const out = join(work, 'out-tls-b');
      const r = build(join(work, 'root-tls-b'), checkout(join(work, 'runner-tls', 'app')), out, [...ca, '--cache-from', `type=registry,ref=${ref}`]);
      expectOk(r);
      expect(ran(r)).toEqual([]);
      expect(imageId(out)).toBe(imageId(outA));
    } finally {
      await secure.stop();
    }
  });
});
