// What a build says it made (--iidfile, --metadata-file) against what it made: the local
// store (tsbuild inspect), OCI layouts and docker archives (their index.json and
// manifest.json), and a real registry (skopeo inspect --raw), for every output form.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-meta-'));
const root = join(work, 'root');
let registry: TestRegistry;
let app: string;
let n = 0;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}
interface Metadata {
  'containerimage.digest'?: string;
  'containerimage.config.digest'?: string;
  'containerimage.descriptor'?: Descriptor;
  'image.name'?: string;
  'tsbuild.image.size'?: string;
}
interface Manifest {
  mediaType: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}

/** Builds with --metadata-file and --iidfile (unless told not to); returns both files. */
function build(dir: string, extra: string[], iid = true): { meta: Metadata; iid: string } {
  const i = ++n;
  const meta = join(work, `meta-${i}.json`);
  const iidFile = join(work, `iid-${i}`);
  expectOk(tsbuildSync(['build', '--root', root, '--progress', 'plain', '--metadata-file', meta, ...(iid ? ['--iidfile', iidFile] : []), ...extra, dir]));
  return { meta: JSON.parse(readFileSync(meta, 'utf8')) as Metadata, iid: iid ? readFileSync(iidFile, 'utf8') : '' };
}

/** The manifest a registry holds for `ref`, and the digest of its exact bytes. */
function registryManifest(ref: string): { digest: string; size: number; manifest: Manifest } {
  const r = run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  expect(r.status, r.stderr).toBe(0);
  return { digest: `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`, size: Buffer.byteLength(r.stdout), manifest: JSON.parse(r.stdout) as Manifest };
}

/** A file of a tar, as text. */
function fromTar(tar: string, name: string): string {
  const r = run('tar', ['-xOf', tar, name]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function inspect(name: string): { Id: string; Digest: string } {
  const r = tsbuildSync(['inspect', '--root', root, name]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { Id: string; Digest: string }[])[0]!;
}

const platform = { architecture: 'amd64', os: 'linux' };

describe.skipIf(!isRoot && !isCI)('--iidfile and --metadata-file agree with what was written', () => {
  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    expectOk(tsbuildSync(['build', '--root', root, '--progress', 'quiet', '-t', 'busybox:meta', await busyboxBaseContext(join(work, 'base'))]));
    app = writeContext(join(work, 'app'), { Dockerfile: 'FROM busybox:meta\nRUN echo app > /app.txt\n' });
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('--push -t A -t B: the digest is the manifest the registry holds under both names, each name listed once', () => {
    const [a, b] = [`${registry.host}/meta/app:1`, `${registry.host}/meta/app:2`];
    const { meta, iid } = build(app, ['--push', '-t', a, '-t', b]);
    const pushed = registryManifest(a);
    expect(registryManifest(b).digest).toBe(pushed.digest);
    expect(meta['containerimage.digest']).toBe(pushed.digest);
    expect(meta['image.name']).toBe(`${a},${b}`);
    expect(meta['containerimage.config.digest']).toBe(pushed.manifest.config.digest);
    expect(iid).toBe(pushed.manifest.config.digest);
    expect(meta['containerimage.descriptor']).toEqual({ mediaType: pushed.manifest.mediaType, digest: pushed.digest, size: pushed.size, platform });
    // tsbuild's own key: the size of the image's layers as pushed.
    expect(meta['tsbuild.image.size']).toBe(String(pushed.manifest.layers.reduce((n, l) => n + l.size, 0)));
    // The local store keeps the very image pushed.
    expect(inspect(a)).toMatchObject({ Id: iid, Digest: pushed.digest });
    // Built again (all cached): the same image, the same report.
    expect(build(app, ['--push', '-t', a]).meta['containerimage.digest']).toBe(pushed.digest);
  });

  it('-o type=registry: the digest pushed', () => {
    const ref = `${registry.host}/meta/app:reg`;
    const { meta, iid } = build(app, ['-o', `type=registry,name=${ref}`]);
    const pushed = registryManifest(ref);
    expect([meta['containerimage.digest'], meta['containerimage.config.digest'], iid]).toEqual([pushed.digest, pushed.manifest.config.digest, pushed.manifest.config.digest]);
    expect(meta['image.name']).toBe(ref);
  });

  it('-t NAME (the local store): the digest tsbuild inspect shows, the names as given', () => {
    const { meta, iid } = build(app, ['-t', 'meta:store']);
    const stored = inspect('meta:store');
    expect([meta['containerimage.digest'], meta['containerimage.config.digest'], iid]).toEqual([stored.Digest, stored.Id, stored.Id]);
    expect(meta['image.name']).toBe('meta:store');
    expect(meta['containerimage.descriptor']).toMatchObject({ digest: stored.Digest, platform });
  });

  it('type=oci and type=docker: the digest of index.json, the names normalised as BuildKit reports them', () => {
    const oci = join(work, 'meta.oci.tar');
    const o = build(app, ['-t', 'meta:oci', '-o', `type=oci,dest=${oci}`]);
    const index = JSON.parse(fromTar(oci, 'index.json')) as { manifests: Descriptor[] };
    expect(index.manifests).toHaveLength(1);
    const entry = index.manifests[0]!;
    expect(entry.annotations).toMatchObject({ 'io.containerd.image.name': 'docker.io/library/meta:oci', 'org.opencontainers.image.ref.name': 'oci' });
    expect(entry.annotations!['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(entry.platform).toEqual(platform);
    expect(o.meta['containerimage.digest']).toBe(entry.digest);
    expect(o.meta['image.name']).toBe('docker.io/library/meta:oci');
    // The reported descriptor is the index entry without its name annotations.
    const { 'io.containerd.image.name': _n, 'org.opencontainers.image.ref.name': _r, ...created } = entry.annotations!;
    expect(o.meta['containerimage.descriptor']).toEqual({ ...entry, annotations: created });
    const manifest = JSON.parse(fromTar(oci, `blobs/sha256/${entry.digest.slice(7)}`)) as Manifest;
    expect(o.iid).toBe(manifest.config.digest);
    expect(o.meta['containerimage.config.digest']).toBe(manifest.config.digest);
    const skopeo = run('skopeo', ['inspect', `oci-archive:${oci}:oci`]);
    expect((JSON.parse(skopeo.stdout) as { Digest: string }).Digest).toBe(entry.digest);

    const docker = join(work, 'meta.docker.tar');
    const d = build(app, ['-t', 'org/meta:docker', '-o', `type=docker,dest=${docker}`]);
    const dIndex = JSON.parse(fromTar(docker, 'index.json')) as { manifests: Descriptor[] };
    expect(dIndex.manifests[0]!.annotations).toMatchObject({ 'io.containerd.image.name': 'docker.io/org/meta:docker', 'org.opencontainers.image.ref.name': 'docker' });
    expect((JSON.parse(fromTar(docker, 'manifest.json')) as { RepoTags: string[] }[])[0]!.RepoTags).toEqual(['org/meta:docker']);
    expect(d.meta['containerimage.digest']).toBe(dIndex.manifests[0]!.digest);
    expect(d.meta['image.name']).toBe('docker.io/org/meta:docker');
    // One image, whatever the output: the same config, the same ID.
    expect(d.iid).toBe(o.iid);
  });

  it('several outputs: a later output\'s keys win, as BuildKit merges exporter responses', () => {
    const ref = `${registry.host}/meta/app:last`;
    const oci = join(work, 'several.oci.tar');
    const { meta, iid } = build(app, ['-o', `type=oci,dest=${oci},name=several:1`, '-o', `type=registry,name=${ref}`]);
    const pushed = registryManifest(ref);
    expect(meta['containerimage.digest']).toBe(pushed.digest);
    expect(meta['image.name']).toBe(ref);
    expect(iid).toBe(pushed.manifest.config.digest);
  });

  it('testOCIExporter: index, manifest, config and layers of type=oci and type=docker archives', () => {
    const dir = writeContext(join(work, 'testOCIExporter'), { Dockerfile: 'FROM scratch\nCOPY foo /wd/\nCOPY bar /wd/\n', foo: 'first', bar: 'second' });
    const target = 'example.com/buildkit/testoci:latest';
    const OCI = { manifest: 'application/vnd.oci.image.manifest.v1+json', config: 'application/vnd.oci.image.config.v1+json', layer: 'application/vnd.oci.image.layer.v1.tar+gzip' };
    const DOCKER = {
      manifest: 'application/vnd.docker.distribution.manifest.v2+json',
      config: 'application/vnd.docker.container.image.v1+json',
      layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    };
    const cases = [
      { name: 'oci', output: 'type=oci', types: OCI, docker: false },
      { name: 'docker', output: `type=docker,name=${target}`, types: OCI, docker: true },
      { name: 'docker-oci-mediatypes-false', output: `type=docker,name=${target},oci-mediatypes=false`, types: DOCKER, docker: true },
    ];
    for (const tc of cases) {
      const out = join(work, `testOCIExporter-${tc.name}.tar`);
      build(dir, ['-o', `${tc.output},dest=${out}`], false);
      const files = new Set(run('tar', ['-tf', out]).stdout.split('\n'));
      expect(files.has('oci-layout'), tc.name).toBe(true);
      const index = JSON.parse(fromTar(out, 'index.json')) as { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
      expect([index.schemaVersion, index.mediaType, index.manifests.length]).toEqual([2, 'application/vnd.oci.image.index.v1+json', 1]);
      expect(index.manifests[0]!.mediaType).toBe(tc.types.manifest);
      const blob = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
      const mfst = JSON.parse(fromTar(out, blob(index.manifests[0]!.digest))) as Manifest;
      expect([mfst.mediaType, mfst.config.mediaType]).toEqual([tc.types.manifest, tc.types.config]);
      expect(mfst.layers.map((l) => l.mediaType)).toEqual([tc.types.layer, tc.types.layer]);
      const img = JSON.parse(fromTar(out, blob(mfst.config.digest))) as { rootfs: { type: string; diff_ids: string[] } };
      expect([img.rootfs.type, img.rootfs.diff_ids.length]).toEqual(['layers', 2]);
      for (const l of mfst.layers) expect(files.has(blob(l.digest))).toBe(true);
      if (!tc.docker) continue;
      const dockerMfst = JSON.parse(fromTar(out, 'manifest.json')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
      expect(dockerMfst).toHaveLength(1);
      expect(files.has(dockerMfst[0]!.Config)).toBe(true);
      expect(dockerMfst[0]!.Layers).toHaveLength(2);
      expect(dockerMfst[0]!.RepoTags).toEqual([target]);
      for (const l of dockerMfst[0]!.Layers) expect(files.has(l)).toBe(true);
    }
  });

  it('testTarExporterBasic: type=tar holds the files; with no image, the metadata has no image keys', () => {
    const dir = writeContext(join(work, 'testTarExporterBasic'), { Dockerfile: 'FROM scratch\nCOPY foo foo\n', foo: 'data' });
    const out = join(work, 'testTarExporterBasic.tar');
    const { meta } = build(dir, ['-o', `type=tar,dest=${out}`], false);
    expect(fromTar(out, 'foo')).toBe('data');
    expect(meta).toEqual({});
  });

  it('--iidfile is refused beside local and tar outputs, before the build, as buildx does', () => {
    const dest = join(work, 'never');
    const r = tsbuildSync(['build', '--root', root, '-o', `type=tar,dest=${dest}`, '--iidfile', join(work, 'iid-x'), app]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('local and tar outputs are incompatible with --iidfile');
    expect(run('test', ['-e', dest]).status).not.toBe(0);
  });
});
