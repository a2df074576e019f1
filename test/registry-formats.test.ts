// What goes over the wire: layer compression (gzip, zstd, uncompressed, level, forced), OCI
// and Docker media types, and an OCI index whose platform is chosen at pull. Checked with
// skopeo, umoci and runc against a real docker-registry.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { runBundle, umociUnpack } from './support/oci.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-formats-'));
const root = join(work, 'root');
let registry: TestRegistry;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

interface RawManifest {
  mediaType: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'ctx-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

function build(dir: string, args: string[], buildRoot = root) {
  const r = tsbuildSync(['build', '--root', buildRoot, '--progress', 'plain', ...args, dir]);
  expect(r.status, r.stderr).toBe(0);
  return r;
}

function rawManifest(name: string): RawManifest {
  const r = run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RawManifest;
}

function diffIds(name: string): string[] {
  const r = run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${name}`]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

/** skopeo copies the image into an OCI layout (verifying every digest); umoci and runc run it. */
function runFromRegistry(name: string): string {
  const layout = join(work, `layout-${Math.random().toString(36).slice(2)}`);
  // This umoci predates zstd: skopeo (which reads zstd) hands it gzip layers.
  const gzip = rawManifest(name).layers.some((l) => l.mediaType === OCI_ZSTD) ? ['--dest-compress', '--dest-compress-format', 'gzip'] : [];
  const r = run('skopeo', ['copy', '-q', ...gzip, '--src-tls-verify=false', `docker://${name}`, `oci:${layout}:1`]);
  expect(r.status, r.stderr).toBe(0);
  return runBundle(umociUnpack(layout, '1', `${layout}-bundle`));
}

describe.skipIf(!isRoot && !isCI)('layer formats and platforms in a registry', () => {
  let base: string;
  let baseLayer: string;

  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    const rootfs = join(work, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    const ctx = context({ Dockerfile: 'FROM scratch\nCOPY rootfs/ /\n' });
    cpSync(rootfs, join(ctx, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const layout = join(work, 'base-layout');
    build(ctx, ['-o', `type=oci,dest=${layout},tar=false,name=base:1`], join(work, 'maker'));
    base = `${registry.host}/library/busybox:1`;
    const r = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${base}`]);
    expect(r.status, r.stderr).toBe(0);
    baseLayer = rawManifest(base).layers[0]!.digest;
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('compresses built layers as asked and sends base layers as pulled, unless force-compression', () => {
    const app = context({ Dockerfile: `FROM ${base}\nRUN echo built-here > /built.txt\nCMD ["cat", "/built.txt"]\n` });
    const zstd = `${registry.host}/fmt/zstd:1`;
    build(app, ['-o', `type=registry,name=${zstd},compression=zstd,compression-level=19`]);
    const m = rawManifest(zstd);
    expect(m.mediaType).toBe(OCI_MANIFEST);
    expect(m.layers.map((l) => l.mediaType)).toEqual([OCI_GZIP, OCI_ZSTD]);
    expect(m.layers[0]!.digest).toBe(baseLayer);

    const forced = `${registry.host}/fmt/zstd-forced:1`;
    build(app, ['-o', `type=image,name=${forced},push=true,compression=zstd,force-compression=true`]);
    const f = rawManifest(forced);
    expect(f.layers.map((l) => l.mediaType)).toEqual([OCI_ZSTD, OCI_ZSTD]);
    expect(f.layers[0]!.digest).not.toBe(baseLayer);
    // Recompressed, not rebuilt: the same tars, so the same diff ids.
    expect(diffIds(forced)).toEqual(diffIds(zstd));
    // Pulled back by tsbuild (zstd layers) and built on.
    const on = build(context({ Dockerfile: `FROM ${forced}\nRUN cat /built.txt\n` }), [], join(work, 'fresh'));
    expect(on.stderr).toMatch(/^#\d+ [\d.]+ built-here$/m);

    const plain = `${registry.host}/fmt/uncompressed:1`;
    build(app, ['-o', `type=registry,name=${plain},compression=uncompressed`]);
    const u = rawManifest(plain);
    expect(u.layers.map((l) => l.mediaType)).toEqual([OCI_GZIP, 'application/vnd.oci.image.layer.v1.tar']);
    // An uncompressed blob is the layer tar itself: its digest is the diff id.
    expect(u.layers[1]!.digest).toBe(diffIds(plain)[1]);
    const onPlain = build(context({ Dockerfile: `FROM ${plain}\nRUN cat /built.txt\n` }), [], join(work, 'fresh-plain'));
    expect(onPlain.stderr).toMatch(/^#\d+ [\d.]+ built-here$/m);

    // Each pushed image is whole: skopeo verifies every blob, umoci and runc run it.
    for (const name of [zstd, forced, plain]) expect(runFromRegistry(name)).toBe('built-here\n');
  });

  it('a higher gzip level makes a smaller layer', () => {
    const big = Array.from({ length: 4000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}`).join('\n');
    const app = context({ Dockerfile: `FROM ${base}\nCOPY big.txt /\n`, 'big.txt': big });
    const sizes = [1, 9].map((level) => {
      const name = `${registry.host}/fmt/gzip-level:${level}`;
      build(app, ['-o', `type=registry,name=${name},compression-level=${level}`], join(work, `level-${level}`));
      return rawManifest(name).layers[1]!.size;
    });
    expect(sizes[1]).toBeLessThan(sizes[0]!);
  });

  it('writes Docker media types with oci-mediatypes=false, for build outputs and tsbuild push', () => {
    const app = context({ Dockerfile: `FROM ${base}\nRUN echo docker-types > /t.txt\nCMD ["cat", "/t.txt"]\n` });
    const name = `${registry.host}/fmt/docker:1`;
    build(app, ['-o', `type=registry,name=${name},oci-mediatypes=false`, '-o', 'type=image,name=fmt/docker:1']);
    const m = rawManifest(name);
    expect(m.mediaType).toBe(DOCKER_MANIFEST);
    expect(m.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(m.layers.map((l) => l.mediaType)).toEqual(Array(2).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'));
    // The pulled OCI gzip blob is the same bytes under the Docker name.
    expect(m.layers[0]!.digest).toBe(baseLayer);
    expect(runFromRegistry(name)).toBe('docker-types\n');

    const pushed = `${registry.host}/fmt/docker-push:1`;
    const r = tsbuildSync(['push', '--root', root, '--format', 'docker', 'fmt/docker:1', pushed]);
    expect(r.status, r.stderr).toBe(0);
    expect(rawManifest(pushed).mediaType).toBe(DOCKER_MANIFEST);
    expect(runFromRegistry(pushed)).toBe('docker-types\n');

    // zstd cannot be named by Docker media types: OCI ones are used, and the build says so.
    const z = `${registry.host}/fmt/docker-zstd:1`;
    const zr = build(app, ['-o', `type=registry,name=${z},oci-mediatypes=false,compression=zstd`]);
    expect(zr.stderr).toContain('compression=zstd needs OCI media types: oci-mediatypes=true is used');
    expect(rawManifest(z).mediaType).toBe(OCI_MANIFEST);
  });

  it('type=docker archives carry OCI media types by default (as current BuildKit), Docker ones when asked', () => {
    const app = context({ Dockerfile: `FROM ${base}\nRUN echo archived > /a.txt\n` });
    for (const [opt, want] of [['', OCI_MANIFEST], [',oci-mediatypes=false', DOCKER_MANIFEST]] as const) {
      const tar = join(work, `docker-${want.length}.tar`);
      build(app, ['-o', `type=docker,dest=${tar},name=fmt/archive:1${opt}`]);
      const index = run('tar', ['-xOf', tar, 'index.json']);
      expect((JSON.parse(index.stdout) as { manifests: { mediaType: string }[] }).manifests[0]!.mediaType).toBe(want);
      expect(run('skopeo', ['inspect', `docker-archive:${tar}`]).status).toBe(0);
    }
  });

  it('tsbuild pull stores an image, and a build on it then asks the registry nothing', () => {
    const pullRoot = join(work, 'pull-root');
    const r = tsbuildSync(['pull', '--root', pullRoot, base]);
    expect(r.status, r.stderr).toBe(0);
    const inspect = run('skopeo', ['inspect', '--tls-verify=false', `docker://${base}`]);
    expect(r.stdout).toBe(`${base}: digest: ${(JSON.parse(inspect.stdout) as { Digest: string }).Digest}\n`);
    expect(tsbuildSync(['images', '--root', pullRoot]).stdout).toContain(`${registry.host}/library/busybox`);
    const on = build(context({ Dockerfile: `FROM ${base}\nRUN echo on-pulled\n` }), [], pullRoot);
    expect(on.stderr).not.toContain('[internal] pull');
    expect(on.stderr).toMatch(/^#\d+ [\d.]+ on-pulled$/m);
    const missing = tsbuildSync(['pull', '--root', pullRoot, `${registry.host}/library/nothing:1`]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('not found in the registry');
  });

  it('keeps the diff ids and blobs of a base image whose layer another tool wrote', () => {
    // A layer GNU tar wrote (its headers are not tsbuild's): its diff id cannot be made again
    // from the unpacked files, so the built image must list the base's own.
    const layout = join(work, 'gnu-layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const tarPath = join(work, 'gnu-layer.tar');
    expect(run('tar', ['--format=gnu', '--sort=name', '-C', join(work, 'rootfs'), '-cf', tarPath, '.']).status).toBe(0);
    const tarBytes = readFileSync(tarPath);
    const gz = gzipSync(tarBytes);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const put = (b: Buffer) => {
      writeFileSync(join(blobs, sha(b)), b);
      return { digest: `sha256:${sha(b)}`, size: b.length };
    };
    const diffId = `sha256:${sha(tarBytes)}`;
    const architecture = process.arch === 'x64' ? 'amd64' : process.arch;
    const config = put(Buffer.from(JSON.stringify({
      architecture, os: 'linux', config: { Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '2020-01-01T00:00:00Z', created_by: 'GNU tar' }],
    })));
    const layer = put(gz);
    const manifest = put(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: OCI_GZIP, ...layer }],
    })));
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'gnu' } }],
    }));
    const name = `${registry.host}/library/gnutar:1`;
    const copied = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:gnu`, `docker://${name}`]);
    expect(copied.status, copied.stderr).toBe(0);
    // tsbuild's own tar of the same files has another digest: the case is real.
    expect(diffIds(base)[0]).not.toBe(diffId);

    const out = join(work, 'gnu-out');
    build(context({ Dockerfile: `FROM ${name}\nRUN echo on-gnu > /on-gnu\n` }), ['-o', `type=oci,dest=${out},tar=false`], join(work, 'gnu-root'));
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const blob = (d: string) => JSON.parse(readFileSync(join(out, 'blobs', 'sha256', d.slice('sha256:'.length)), 'utf8'));
    const m = blob(index.manifests[0]!.digest) as RawManifest;
    expect(m.layers[0]!.digest).toBe(layer.digest); // sent as pulled
    const c = blob(m.config.digest) as { rootfs: { diff_ids: string[] } };
    expect(c.rootfs.diff_ids[0]).toBe(diffId);
    expect(c.rootfs.diff_ids).toHaveLength(2);
  });

  it('pulls the right image of an OCI index with several platforms', () => {
    // Three images, one per platform, each saying which it is; an index names them all.
    const merged = join(work, 'multi');
    const entries: Record<string, unknown>[] = [];
    for (const platform of ['linux/arm64', 'linux/amd64', 'linux/arm/v7']) {
      const ctx = context({ Dockerfile: 'FROM scratch\nCOPY platform /platform\n', platform: `${platform}\n` });
      const layout = join(work, `plat-${platform.replace(/\//g, '-')}`);
      build(ctx, ['--platform', platform, '-o', `type=oci,dest=${layout},tar=false`], join(work, 'maker'));
      cpSync(join(layout, 'blobs'), join(merged, 'blobs'), { recursive: true });
      const [os, architecture, variant] = platform.split('/');
      const desc = (JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Record<string, unknown>[] }).manifests[0]!;
      entries.push({ mediaType: desc['mediaType'], digest: desc['digest'], size: desc['size'], platform: { architecture, os, ...(variant ? { variant } : {}) } });
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
    const hex = createHash('sha256').update(index).digest('hex');
    writeFileSync(join(merged, 'blobs', 'sha256', hex), index);
    writeFileSync(join(merged, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(
      join(merged, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${hex}`, size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
      }),
    );
    const multi = `${registry.host}/library/multi:1`;
    const copied = run('skopeo', ['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${merged}:multi`, `docker://${multi}`]);
    expect(copied.status, copied.stderr).toBe(0);
    expect(rawManifest(multi).mediaType).toBe('application/vnd.oci.image.index.v1+json');

    const want = (platform: string | undefined, expected: string) => {
      const dest = join(work, `out-${Math.random().toString(36).slice(2)}`);
      const ctx = context({ Dockerfile: `FROM ${multi}\n` });
      build(ctx, [...(platform === undefined ? [] : ['--platform', platform]), '-o', `type=local,dest=${dest}`], join(work, 'plat-root'));
      expect(readFileSync(join(dest, 'platform'), 'utf8')).toBe(`${expected}\n`);
    };
    want(undefined, 'linux/amd64'); // this machine's platform
    want('linux/arm64', 'linux/arm64');
    want('linux/arm/v7', 'linux/arm/v7');
    // A platform the index lacks: a clear error that lists what it has.
    const missing = tsbuildSync(['build', '--root', join(work, 'plat-root'), '--platform', 'linux/s390x', context({ Dockerfile: `FROM ${multi}\n` })]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no image for linux/s390x');
    expect(missing.stderr).toContain('linux/arm64, linux/amd64, linux/arm/v7');
  });
});
