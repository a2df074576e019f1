import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLease, openContentStore, sha256Of, type ContentStore } from '../content/index.js';
import { transpileForChild } from '../content/testing.js';
import { isImageError, normalizeImageName, openImageStore, type ImageStore } from './index.js';
import { buildBusyboxImage, mustRun } from '../exporter/testing.js';

let dir: string;
let content: ContentStore;
let images: ImageStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-images-'));
  content = await openContentStore(join(dir, 'content'));
  images = await openImageStore({ root: join(dir, 'images'), content, leasesDir: join(dir, 'leases') });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Makes every blob look old enough for prune's grace period. */
async function ageAllBlobs(): Promise<void> {
  const old = new Date(Date.now() - 3600_000);
  for await (const b of content.walk()) await utimes(content.blobPath(b.digest), old, old);
}

describe('image names', () => {
  it('are kept as written; a missing tag becomes :latest', () => {
    expect(normalizeImageName('busybox')).toBe('busybox:latest');
    expect(normalizeImageName('busybox:test')).toBe('busybox:test');
    expect(normalizeImageName('docker.io/library/busybox:test')).toBe('docker.io/library/busybox:test');
    expect(normalizeImageName('localhost:5000/a/b')).toBe('localhost:5000/a/b:latest');
    expect(normalizeImageName(`a@sha256:${'1'.repeat(64)}`)).toBe(`a@sha256:${'1'.repeat(64)}`);
    expect(() => normalizeImageName('BusyBox')).toThrow(/lower-case/);
    expect(() => normalizeImageName('a:b:c')).toThrow(/invalid image name/);
    expect(() => normalizeImageName('bad name')).toThrow(/invalid image name/);
  });
});

describe('local image store', () => {
  it('tag, resolve, list, untag', async () => {
    const image = await buildBusyboxImage(content);
    await images.tagImage('busybox:test', image.manifest);
    await images.tagImage('busybox', image.manifest);
    const resolved = await images.resolveImage('busybox:test');
    expect(resolved).toMatchObject({ name: 'busybox:test', manifest: image.manifest, config: image.config, layers: image.layers });
    expect((await images.listImages()).map((i) => i.name)).toEqual(['busybox:latest', 'busybox:test']);
    expect(await images.untagImage('busybox')).toBe(true);
    expect(await images.untagImage('busybox')).toBe(false);
    await expect(images.resolveImage('busybox')).rejects.toSatisfy((e) => isImageError(e, 'IMAGE_NOT_FOUND'));
    const index = JSON.parse(await readFile(join(dir, 'images', 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['busybox:test']);
  });

  it('is an OCI layout skopeo can read in place', async () => {
    const image = await buildBusyboxImage(content);
    await images.tagImage('busybox:test', image.manifest);
    const info = JSON.parse(await mustRun('skopeo', ['inspect', `oci:${join(dir, 'images')}:busybox:test`])) as { Digest: string };
    expect(info.Digest).toBe(image.manifest.digest);
  });

  it('refuses to tag a manifest that is not in the store', async () => {
    const bogus = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Of('nope'), size: 4 };
    await expect(images.tagImage('x:y', bogus)).rejects.toThrow(/not found/);
  });

  it('two processes tagging at once both land', async () => {
    const image = await buildBusyboxImage(content);
    const url = await transpileForChild(join(dir, 'js'), ['content', 'errors', 'images', 'native']);
    const script = `
      import { openContentStore } from ${JSON.stringify(url('content/index.js'))};
      import { openImageStore } from ${JSON.stringify(url('images/image-store.js'))};
      const [root, prefix, manifest] = process.argv.slice(1);
      const content = await openContentStore(root + '/content');
      const images = await openImageStore({ root: root + '/images', content, leasesDir: root + '/leases' });
      await Promise.all(Array.from({ length: 20 }, (_, i) => images.tagImage(prefix + ':' + i, JSON.parse(manifest))));`;
    const run = (prefix: string) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, prefix, JSON.stringify(image.manifest)]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    const results = await Promise.all([run('one'), run('two')]);
    expect(results).toEqual([{ code: 0, stderr: '' }, { code: 0, stderr: '' }]);
    const names = (await images.listImages()).map((i) => i.name);
    expect(names).toHaveLength(40);
    for (let i = 0; i < 20; i++) expect(names).toContain(`one:${i}`), expect(names).toContain(`two:${i}`);
  });

  it('removeImage deletes blobs only that image used', async () => {
    const a = await buildBusyboxImage(content);
    const b = await buildBusyboxImage(content, { ociMediaTypes: false }); // shares the layer and config blobs
    await images.tagImage('a:1', a.manifest);
    await images.tagImage('b:1', b.manifest);
    const { deleted } = await images.removeImage('a:1');
    expect(deleted).toEqual([a.manifest.digest]);
    expect(await content.has(a.config.digest)).toBe(true);
    expect(await content.has(a.layers[0]!.digest)).toBe(true);
    await images.resolveImage('b:1');
    await expect(images.removeImage('a:1')).rejects.toSatisfy((e) => isImageError(e, 'IMAGE_NOT_FOUND'));
  });

  it('disk usage counts shared and unique bytes', async () => {
    const a = await buildBusyboxImage(content);
    const b = await buildBusyboxImage(content, { ociMediaTypes: false });
    await images.tagImage('a:1', a.manifest);
    await images.tagImage('b:1', b.manifest);
    await content.writeBlob(Buffer.from('orphan'));
    const du = await images.imageDiskUsage();
    const layer = a.layers[0]!.size;
    expect(du.images.find((i) => i.name === 'a:1')).toMatchObject({ size: layer + a.config.size + a.manifest.size, uniqueSize: a.manifest.size });
    expect(du.reclaimableSize).toBe(6);
    expect(du.totalSize).toBe(du.referencedSize + 6);
  });

  it('prune keeps what images and live leases reference, and honours keep-storage', async () => {
    const image = await buildBusyboxImage(content);
    await images.tagImage('busybox:test', image.manifest);
    const orphan = await content.writeBlob(Buffer.from('orphan'));
    const leased = await content.writeBlob(Buffer.from('leased'));
    const lease = await createLease(join(dir, 'leases'), { blobs: [leased.digest] });
    // A lease of a dead process protects nothing.
    const deadLeaseBlob = await content.writeBlob(Buffer.from('dead lease'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'leases', '999999999-abcdef.json'), JSON.stringify({ pid: 999999999, createdAt: '', blobs: [deadLeaseBlob.digest], snapshots: [] }));

    const young = await images.prune(); // everything is younger than the grace period
    expect(young.deleted).toEqual([]);
    expect(young.staleLeases).toEqual(['999999999-abcdef']);
    await ageAllBlobs();
    const kept = await images.prune({ keepStorage: 100 });
    expect(kept.deleted).toEqual([]);
    const result = await images.prune();
    expect(new Set(result.deleted)).toEqual(new Set([orphan.digest, deadLeaseBlob.digest]));
    expect(await content.has(leased.digest)).toBe(true);
    expect(await content.has(image.manifest.digest)).toBe(true);
    await lease.release();
    expect((await images.prune()).deleted).toEqual([leased.digest]);
    await images.untagImage('busybox:test');
    // The compressed layer is remembered as cache: kept without --all, removed with it.
    const plain = await images.prune();
    expect(new Set(plain.deleted)).toEqual(new Set([image.manifest.digest, image.config.digest]));
    expect((await images.prune({ all: true })).deleted).toEqual([image.layers[0]!.digest]);
  });
});
