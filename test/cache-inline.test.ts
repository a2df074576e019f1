// --cache-to type=inline end to end, shaped like CI, against a real registry (Debian's
// docker-registry on loopback): runner A builds with the records in the image config and
// pushes the image; a fresh runner (empty state directory, the checkout at another path)
// imports them with --cache-from IMAGE, hits every step and writes the same image; after a
// change it downloads only the layers the rerun needs — counted in the registry's access log.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync, type Run } from './support/cli.js';
import { cachedCount, copyCheckout, imageId, ran } from './support/cache-scenario.js';
import { isCI, isRoot } from './support/env.js';
import { blobGets, served, startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-inline-'));
const checkoutA = join(work, 'runner-a', 'checkout', 'app');

// The scenario of test/support/cache-scenario.ts without its side stage: an inline cache holds
// the image's own steps only (mode=min), and a COPY --from of a stage outside the image needs
// that stage's result for its content key, so the stage would run again.
const DOCKERFILE = [
  'FROM scratch AS base',
  'COPY rootfs/ /',
  'FROM base',
  'RUN echo RAN-FIRST && head -c 32 /dev/urandom | sha256sum > /first',
  'COPY app.txt /app.txt',
  'RUN echo RAN-SECOND && head -c 32 /dev/urandom | sha256sum > /second && cat /app.txt >> /second',
  '',
].join('\n');

function build(root: string, context: string, out: string, extra: readonly string[]): Run {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, '--metadata-file', `${out}.json`, ...extra, context]);
}

interface Config {
  architecture: string;
  os: string;
  rootfs: { diff_ids: string[] };
  [member: string]: unknown;
}
interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
}

function skopeo(args: readonly string[]): string {
  const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`skopeo inspect failed: ${r.stderr}`);
  return r.stdout;
}
/** The pushed image's config, as skopeo reads it from the registry. */
const configOf = (ref: string): Config => JSON.parse(skopeo(['--config', '--raw', `docker://${ref}`])) as Config;
const manifestOf = (ref: string): Manifest => JSON.parse(skopeo(['--raw', `docker://${ref}`])) as Manifest;
const recordsOf = (c: Config) => (c['tsbuild.cache.v1'] as { records: { key: string; layers: number }[] }).records;

describe.skipIf(!isRoot && !isCI)('--cache-to type=inline / --cache-from IMAGE', () => {
  let registry: TestRegistry;
  let first: Run;
  const outA = join(work, 'out-a');
  let imageRef: string;
  let plainRef: string;

  const during = (f: () => Run) => served(registry, f);
  const checkout = (to: string, change?: string): string => copyCheckout(checkoutA, to, change);

  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    imageRef = `${registry.host}/app:inline`;
    plainRef = `${registry.host}/app:plain`;
    writeContext(checkoutA, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n' });
    await makeBusyboxRootfs(join(checkoutA, 'rootfs'));
    first = build(join(work, 'root-a'), checkoutA, outA, ['--cache-to', 'type=inline', '-o', `type=image,name=${imageRef},push=true`]);
    expectOk(first);
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runner A pushes the image with the records of its steps in its config, its layers untouched (no extra blob)', () => {
    expect(ran(first)).toEqual(['RAN-FIRST', 'RAN-SECOND']);
    const config = configOf(imageRef);
    const manifest = manifestOf(imageRef);
    // One config for every output: the pushed one is the image ID the metadata file names.
    expect(manifest.config.digest).toBe(imageId(outA));
    expect(config['moby.buildkit.cache.v0']).toBeUndefined();
    const records = recordsOf(config);
    // Each step of the image (FROM scratch: none of its layers), sorted by key, as a count of
    // the image's bottom layers.
    expect(records.map((r) => r.key)).toEqual(records.map((r) => r.key).sort());
    expect(records.map((r) => r.layers).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(manifest.layers).toHaveLength(4);
    expect(config.rootfs.diff_ids).toHaveLength(4);
    // The same build without --cache-to type=inline: the same layers, the same config but the member.
    expectOk(build(join(work, 'root-a'), checkoutA, join(work, 'out-plain'), ['-o', `type=image,name=${plainRef},push=true`]));
    const plain = configOf(plainRef);
    expect(manifestOf(plainRef).layers).toEqual(manifest.layers);
    const { ['tsbuild.cache.v1']: _records, ...rest } = config;
    expect(rest).toEqual(plain);
    expect(imageId(join(work, 'out-plain'))).not.toBe(imageId(outA));
  });

  it('is byte-stable: the same build again gives the same config (docker and OCI archives alike), the same image ID; mode=max is exported as mode=min with a warning, as BuildKit exports its inline cache', () => {
    const out = join(work, 'out-again');
    const docker = join(work, 'again-docker.tar');
    const r = build(join(work, 'root-a'), checkoutA, out, ['--cache-to', 'type=inline,mode=max', '-o', `type=docker,dest=${docker}`, '-o', `type=oci,dest=${join(work, 'again.tar')}`]);
    expectOk(r);
    expect(r.stderr).toContain('WARNING: --cache-to type=inline exports mode=min only (as BuildKit)');
    expect(ran(r)).toEqual([]);
    expect(imageId(out)).toBe(imageId(outA));
    const manifest = spawnSync('tar', ['-xOf', docker, 'manifest.json'], { encoding: 'utf8' });
    expect((JSON.parse(manifest.stdout) as { Config: string }[])[0]!.Config).toBe(`blobs/sha256/${imageId(outA)!.slice('sha256:'.length)}`);
    // Without an image output the records would go nowhere: a warning.
    const local = build(join(work, 'root-a'), checkoutA, join(work, 'out-local'), ['--cache-to', 'type=inline']);
    expectOk(local);
    expect(local.stderr).toContain('WARNING: --cache-to type=inline: no output writes an image config to carry the cache');
  });

  it('a fresh runner at another checkout path hits every step from the image, runs nothing, writes the same image', () => {
    const out = join(work, 'out-b');
    const { r, requests } = during(() =>
      build(join(work, 'root-b'), checkout(join(work, 'runner-b', 'src', 'elsewhere')), out, ['--cache-from', imageRef, '--cache-to', 'type=inline', '-o', 'type=image,name=inline-test:b']),
    );
    expectOk(r);
    expect(ran(r)).toEqual([]);
    expect(cachedCount(r)).toBeGreaterThanOrEqual(4);
    for (const f of ['first', 'second']) expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(outA, f), 'utf8'));
    expect(imageId(out)).toBe(imageId(outA));
    // The last step hit and the local output needs its files: each layer downloaded once.
    const layers = manifestOf(imageRef).layers.map((l) => l.digest);
    expect(blobGets(requests, layers).sort()).toEqual([...layers].sort());
  });

  it('after a change to the copied file, only the step after its COPY runs and only the layers under the COPY are downloaded', () => {
    const out = join(work, 'out-c');
    const layers = manifestOf(imageRef).layers.map((l) => l.digest);
    const { r, requests } = during(() =>
      build(join(work, 'root-c'), checkout(join(work, 'runner-c', 'app'), 'version 2\n'), out, ['--cache-from', `type=registry,ref=${imageRef}`]),
    );
    expectOk(r);
    expect(ran(r)).toEqual(['RAN-SECOND']);
    expect(readFileSync(join(out, 'first'), 'utf8')).toBe(readFileSync(join(outA, 'first'), 'utf8'));
    expect(readFileSync(join(out, 'second'), 'utf8')).toMatch(/version 2\n$/);
    expect(blobGets(requests, layers).sort()).toEqual([layers[0]!, layers[1]!].sort());
  });

  it('an index is read through the manifest of the build\'s platform; an index without it and an image without records are warnings', async () => {
    const { architecture, os } = configOf(imageRef);
    const put = async (tag: string, entries: { ref: string; platform: { os: string; architecture: string } }[]) => {
      const manifests = await Promise.all(
        entries.map(async ({ ref, platform }) => {
          const res = await fetch(`http://${registry.host}/v2/app/manifests/${ref.slice(ref.lastIndexOf(':') + 1)}`, {
            headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
          });
          const bytes = Buffer.from(await res.arrayBuffer());
          return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: res.headers.get('docker-content-digest'), size: bytes.length, platform };
        }),
      );
      const res = await fetch(`http://${registry.host}/v2/app/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
        body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
      });
      expect(res.status).toBe(201);
    };
    // The other platform's entry first: the build's own is picked, not the first.
    await put('multi', [
      { ref: plainRef, platform: { os, architecture: architecture === 's390x' ? 'riscv64' : 's390x' } },
      { ref: imageRef, platform: { os, architecture } },
    ]);
    await put('elsewhere', [{ ref: imageRef, platform: { os, architecture: architecture === 's390x' ? 'riscv64' : 's390x' } }]);
    const viaIndex = build(join(work, 'root-index'), checkout(join(work, 'runner-index', 'app')), join(work, 'out-index'), ['--cache-from', `${registry.host}/app:multi`]);
    expectOk(viaIndex);
    expect(ran(viaIndex)).toEqual([]);
    const without = build(join(work, 'root-plain'), checkout(join(work, 'runner-plain', 'app')), join(work, 'out-without'), [
      '--cache-from', `${registry.host}/app:elsewhere`,
      '--cache-from', plainRef,
    ]);
    expectOk(without);
    expect(without.stderr).toContain(`WARNING: registry cache import from ${registry.host}/app:elsewhere skipped: the index has no image for ${os}/${architecture}`);
    expect(without.stderr).toContain(`WARNING: registry cache import from ${plainRef} skipped: the image has no build cache`);
    expect(ran(without)).toEqual(['RAN-FIRST', 'RAN-SECOND']);
  });
});
