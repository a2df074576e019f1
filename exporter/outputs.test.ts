import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContentStore, type ContentStore } from '../content/index.js';
import { writeDockerArchive, writeOciLayout } from './index.js';
import type { ImageBlobs } from '../images/index.js';
import { MediaType } from '../oci/index.js';
import { buildBusyboxImage, mustRun } from './testing.js';

let dir: string;
let store: ContentStore;
let image: ImageBlobs & { diffId: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-outputs-'));
  store = await openContentStore(join(dir, 'content'));
  image = await buildBusyboxImage(store);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface SkopeoInspect {
  Digest: string;
  Layers: string[];
  Architecture: string;
  Os: string;
  RepoTags?: string[];
}

async function skopeoInspect(ref: string): Promise<SkopeoInspect> {
  return JSON.parse(await mustRun('skopeo', ['inspect', ref])) as SkopeoInspect;
}

describe('OCI layout output, checked by skopeo, umoci and runc', () => {
  it('a directory layout: skopeo reports the manifest digest and layer', async () => {
    const dest = join(dir, 'oci-dir');
    await writeOciLayout({ dest, tar: false }, { provider: store, image, names: ['docker.io/library/busybox:test'] });
    const info = await skopeoInspect(`oci:${dest}:test`);
    expect(info.Digest).toBe(image.manifest.digest);
    expect(info.Layers).toEqual([image.layers[0]!.digest]);
    expect(info.Architecture).toBe('amd64');
    expect(info.Os).toBe('linux');
    const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests[0]!.annotations).toEqual({
      'io.containerd.image.name': 'docker.io/library/busybox:test',
      'org.opencontainers.image.ref.name': 'test',
    });
  });

  it('names the image as BuildKit does: the normalised name, its tag, the platform and the creation time', async () => {
    const dest = join(dir, 'oci-names');
    const created = new Date('2024-05-06T07:08:09.123Z');
    const platform = { architecture: 'amd64', os: 'linux' };
    await writeOciLayout({ dest, tar: false }, { provider: store, image, names: ['busybox:test', 'example.com/team/app'], platform, created });
    const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: Record<string, unknown>[] };
    const entry = (name: string, tag: string) => ({
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.size,
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.created': '2024-05-06T07:08:09Z', 'org.opencontainers.image.ref.name': tag },
      platform,
    });
    expect(index.manifests).toEqual([entry('docker.io/library/busybox:test', 'test'), entry('example.com/team/app:latest', 'latest')]);
    expect((await skopeoInspect(`oci:${dest}:test`)).Digest).toBe(image.manifest.digest);
  });

  it('a tar layout: skopeo reads it as oci-archive', async () => {
    const dest = join(dir, 'image-oci.tar');
    await writeOciLayout({ dest, tar: true }, { provider: store, image, names: ['busybox:test'] });
    const info = await skopeoInspect(`oci-archive:${dest}:test`);
    expect(info.Digest).toBe(image.manifest.digest);
    expect(info.Layers).toEqual([image.layers[0]!.digest]);
  });

  it('umoci unpacks it and runc runs the Cmd, which prints hello', async () => {
    const dest = join(dir, 'oci-run');
    await writeOciLayout({ dest, tar: false }, { provider: store, image, names: ['busybox:test'] });
    const bundle = join(dir, 'bundle');
    await mustRun('umoci', ['unpack', '--image', `${dest}:test`, bundle]);
    const configPath = join(bundle, 'config.json');
    const spec = JSON.parse(await readFile(configPath, 'utf8')) as { process: { terminal: boolean; args: string[] } };
    expect(spec.process.args).toEqual(['/bin/echo', 'hello']);
    spec.process.terminal = false; // no tty under the test runner
    await writeFile(configPath, JSON.stringify(spec));
    const id = `tsbuild-test-${process.pid}`;
    const out = await mustRun('runc', ['--root', join(dir, 'runc-state'), 'run', '--bundle', bundle, id]);
    expect(out).toBe('hello\n');
  });

  it('Docker media types (oci-mediatypes=false): a docker archive skopeo reads', async () => {
    // skopeo 1.9's oci: transport only looks at OCI-typed index entries, so the Docker-typed
    // image is checked through docker-archive (where skopeo parses our manifest.json + config).
    const docker = await buildBusyboxImage(store, { ociMediaTypes: false });
    expect(docker.manifest.mediaType).toBe(MediaType.dockerManifest);
    expect(docker.layers[0]!.mediaType).toBe(MediaType.dockerLayerGzip);
    const dest = join(dir, 'docker-types.tar');
    await writeDockerArchive(dest, { provider: store, image: docker }, ['busybox:docker']);
    const info = await skopeoInspect(`docker-archive:${dest}:busybox:docker`);
    expect(info.Layers).toEqual([docker.diffId]);
    expect(info.Architecture).toBe('amd64');
  });
});

describe('docker archive output', () => {
  it('skopeo accepts it as docker-archive with the given names', async () => {
    const dest = join(dir, 'image-docker.tar');
    await writeDockerArchive(dest, { provider: store, image }, ['busybox:test', 'example.com/team/busybox:v1']);
    const info = await skopeoInspect(`docker-archive:${dest}`);
    // docker-archive sources report layers by their uncompressed digest.
    expect(info.Layers).toEqual([image.diffId]);
    const byTag = await skopeoInspect(`docker-archive:${dest}:busybox:test`);
    expect(byTag.Layers).toEqual([image.diffId]);
    const byName = await skopeoInspect(`docker-archive:${dest}:example.com/team/busybox:v1`);
    expect(byName.Layers).toEqual([image.diffId]);
    // The same tar is an OCI layout too (as Docker 25 writes it).
    const oci = await skopeoInspect(`oci-archive:${dest}:test`);
    expect(oci.Digest).toBe(image.manifest.digest);
  });

  it('writes RepoTags in Docker\'s short form and index.json with normalised names, as containerd\'s export', async () => {
    const dest = join(dir, 'names-docker.tar');
    await writeDockerArchive(dest, { provider: store, image }, ['docker.io/library/busybox:test', 'docker.io/org/app:1', 'localhost:5000/app']);
    const file = async (name: string) => JSON.parse(await mustRun('tar', ['-xOf', dest, name])) as unknown;
    expect(((await file('manifest.json')) as { RepoTags: string[] }[])[0]!.RepoTags).toEqual(['busybox:test', 'org/app:1', 'localhost:5000/app:latest']);
    const index = (await file('index.json')) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations['io.containerd.image.name'])).toEqual(['docker.io/library/busybox:test', 'docker.io/org/app:1', 'localhost:5000/app:latest']);
    expect(await file('repositories')).toEqual({
      busybox: { test: image.layers[0]!.digest.slice(7) },
      'org/app': { '1': image.layers[0]!.digest.slice(7) },
      'localhost:5000/app': { latest: image.layers[0]!.digest.slice(7) },
    });
    expect((await skopeoInspect(`docker-archive:${dest}:org/app:1`)).Layers).toEqual([image.diffId]);
  });

  it('nothing is left at dest when the export fails', async () => {
    const dest = join(dir, 'broken.tar');
    const missing = { ...image, layers: [{ ...image.layers[0]!, digest: `sha256:${'0'.repeat(64)}` as typeof image.layers[0]['digest'] }] };
    await expect(writeDockerArchive(dest, { provider: store, image: missing }, ['x:y'])).rejects.toThrow(/not found/);
    await expect(readFile(dest)).rejects.toThrow(/ENOENT/);
  });
});
