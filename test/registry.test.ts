// FROM images in a real registry: pulled (OCI and Docker media types, digest pinning),
// kept in the local store so the next build asks the registry nothing, and refused cleanly
// when missing or unreachable.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBaseArchive, run, tsbuildAsync, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { runBundle, umociUnpack } from './support/oci.js';
import { blobGets, served, startRegistry, type TestRegistry } from './support/registry.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-registry-'));
const root = join(work, 'root');
let registry: TestRegistry;

function build(dockerfile: string, extra: string[] = []) {
  const dir = mkdtempSync(join(work, 'ctx-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
}

describe.skipIf(!isRoot && !isCI)('FROM an image in a registry', () => {
  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    const archive = await makeBaseArchive(work);
    // skopeo, not tsbuild, puts the image there: in OCI and in Docker media types.
    for (const [tag, format] of [['oci', 'oci'], ['docker', 'v2s2']] as const) {
      const r = run('skopeo', ['copy', '-q', '--format', format, '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${registry.host}/library/busybox:${tag}`]);
      expect(r.status, r.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls OCI and Docker manifests, runs on them, and pins digests', () => {
    for (const tag of ['oci', 'docker']) {
      const r = build(`FROM ${registry.host}/library/busybox:${tag}\nRUN echo on-${tag}\n`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(`[internal] pull ${registry.host}/library/busybox:${tag}`);
      expect(r.stderr).toMatch(new RegExp(`^#\\d+ [\\d.]+ on-${tag}$`, 'm'));
    }
    const inspect = run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/library/busybox:oci`]);
    const digest = (JSON.parse(inspect.stdout) as { Digest: string }).Digest;
    const pinned = build(`FROM ${registry.host}/library/busybox@${digest}\nRUN echo pinned\n`);
    expect(pinned.status, pinned.stderr).toBe(0);
  });

  it('keeps a pulled image: the next build asks the registry nothing', async () => {
    const first = build(`FROM ${registry.host}/library/busybox:oci\nRUN echo kept\n`, ['-t', 'kept:1']);
    expect(first.status, first.stderr).toBe(0);
    await registry.stop();
    try {
      const again = build(`FROM ${registry.host}/library/busybox:oci\nRUN echo kept\n`, ['-t', 'kept:1']);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).not.toContain('[internal] pull');
      // --pull asks the registry, which is gone: a clear error, not a stack.
      const pulled = build(`FROM ${registry.host}/library/busybox:oci\n`, ['--pull']);
      expect(pulled.status).toBe(1);
      expect(pulled.stderr).toContain(`cannot reach http://${registry.host}`);
      expect(pulled.stderr).not.toMatch(/\n\s+at /);
    } finally {
      registry = await startRegistry(join(work, 'registry'));
    }
  });

  it('fetches the layers of a base image only when needed, as BuildKit does, and names it in the store once they are all here', () => {
    const base = `${registry.host}/library/busybox:oci`;
    const layers = (JSON.parse(run('skopeo', ['inspect', '--tls-verify=false', `docker://${base}`]).stdout) as { Layers: string[] }).Layers;
    const fresh = join(work, 'lazy-root');
    const lazyBuild = (dockerfile: string, extra: string[]) => {
      const dir = mkdtempSync(join(work, 'ctx-'));
      writeFileSync(join(dir, 'Dockerfile'), dockerfile);
      return served(registry, () => tsbuildSync(['build', '--root', fresh, '--progress', 'plain', ...extra, dir]));
    };
    // Nothing runs on the base and the image goes to the same registry: its layers are
    // mounted there from the base's repository, never downloaded.
    const pushed = lazyBuild(`FROM ${base}\nENV LAZY=1\n`, ['-o', `type=registry,name=${registry.host}/app/lazy:1`]);
    expect(pushed.r.status, pushed.r.stderr).toBe(0);
    expect(blobGets(pushed.requests, layers)).toEqual([]);
    const mounts = pushed.requests.filter((q) => q.method === 'POST' && q.uri.includes('/v2/app/lazy/blobs/uploads/?mount=') && q.status === 201);
    expect(mounts).toHaveLength(layers.length);
    expect(JSON.parse(run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/app/lazy:1`]).stdout).Layers).toEqual(layers);
    // Not all its layers are here, so the local store does not name it.
    expect(tsbuildSync(['images', '--root', fresh]).stdout).not.toContain('library/busybox');
    // A RUN needs its files: each layer is downloaded once, and the store names the image.
    const ran = lazyBuild(`FROM ${base}\nRUN echo lazy-run\n`, []);
    expect(ran.r.status, ran.r.stderr).toBe(0);
    expect(blobGets(ran.requests, layers).sort()).toEqual([...layers].sort());
    expect(tsbuildSync(['images', '--root', fresh]).stdout).toContain('library/busybox');
  });

  it('refuses a blob whose bytes do not match its digest, and stores nothing of it', () => {
    // Corrupt the layer in the registry's own storage: it serves what it has on disk.
    const inspect = run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/library/busybox:oci`]);
    const layer = (JSON.parse(inspect.stdout) as { Layers: string[] }).Layers[0]!;
    const hex = layer.slice('sha256:'.length);
    const blobFile = join(work, 'registry', 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    const original = readFileSync(blobFile);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 10] = corrupt[corrupt.length - 10]! ^ 0xff;
    writeFileSync(blobFile, corrupt);
    try {
      const fresh = join(work, 'fresh-root');
      const dir = mkdtempSync(join(work, 'ctx-'));
      // A step that runs on the image needs its layer.
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${registry.host}/library/busybox:oci\nRUN true\n`);
      const r = tsbuildSync(['build', '--root', fresh, '--progress', 'plain', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`blob ${layer} did not arrive intact`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(fresh, 'content', 'blobs', 'sha256', hex))).toBe(false);
    } finally {
      writeFileSync(blobFile, original);
    }
  });

  it('pushes with --push and -o type=registry; skopeo, umoci and runc accept the result', () => {
    const name = `${registry.host}/app/pushed:1`;
    const pushed = build(`FROM ${registry.host}/library/busybox:oci\nRUN echo pushed > /pushed.txt\nCMD ["cat", "/pushed.txt"]\n`, ['--push', '-t', name]);
    expect(pushed.status, pushed.stderr).toBe(0);
    const again = build(`FROM ${registry.host}/library/busybox:oci\nRUN echo pushed > /pushed.txt\nCMD ["cat", "/pushed.txt"]\n`, ['-o', `type=registry,name=${registry.host}/app/pushed:2`]);
    expect(again.status, again.stderr).toBe(0);
    const inspect = run('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`]);
    expect(inspect.status, inspect.stderr).toBe(0);
    const pushedLayers = (JSON.parse(inspect.stdout) as { Layers: string[] }).Layers;
    expect(pushedLayers).toHaveLength(2);
    // The base layer is pushed as it was pulled, not compressed again.
    const base = run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/library/busybox:oci`]);
    expect(pushedLayers[0]).toBe((JSON.parse(base.stdout) as { Layers: string[] }).Layers[0]);
    const layout = join(work, 'pulled-layout');
    expect(run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/app/pushed:2`, `oci:${layout}:1`]).status).toBe(0);
    expect(runBundle(umociUnpack(layout, '1', join(work, 'pulled-bundle')))).toBe('pushed\n');
  });

  it('pushes images of the local store with tsbuild push: built layers compressed, pulled ones as they came', () => {
    const built = build(`FROM ${registry.host}/library/busybox:oci\nRUN echo stored > /stored.txt\n`, ['-t', 'local/stored:1']);
    expect(built.status, built.stderr).toBe(0);
    const target = `${registry.host}/app/from-store:1`;
    const r = tsbuildSync(['push', '--root', root, 'local/stored:1', target]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${target.replace(/[.]/g, '\\.')}: digest: sha256:[0-9a-f]{64}\n$`));
    const layers = (name: string) =>
      (JSON.parse(run('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`]).stdout) as { Layers: string[] }).Layers;
    const pushedLayers = layers(target);
    expect(pushedLayers).toHaveLength(2);
    // The base layer goes as it was pulled: the same blob as in the base image.
    expect(pushedLayers[0]).toBe(layers(`${registry.host}/library/busybox:oci`)[0]);
    const missing = tsbuildSync(['push', '--root', root, 'not/there:1', target]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no such image: not/there:1');
  });

  it('fails cleanly when the registry dies in the middle of a push, and a rerun completes it', async () => {
    const built = build(`FROM ${registry.host}/library/busybox:oci\nRUN head -c 100000000 /dev/urandom > /big\n`, ['-t', 'local/big:1']);
    expect(built.status, built.stderr).toBe(0);
    const target = `${registry.host}/app/big:1`;
    const uploads = join(work, 'registry', 'data', 'docker', 'registry', 'v2', 'repositories', 'app', 'big', '_uploads');
    const push = tsbuildAsync(['push', '--root', root, 'local/big:1', target]);
    // Kill the registry once an upload of the big layer has bytes on its disk.
    let killed = false;
    for (let i = 0; i < 600 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (!existsSync(uploads)) continue;
      const growing = readdirSync(uploads).some((u) => {
        const data = join(uploads, u, 'data');
        return existsSync(data) && statSync(data).size > 1_000_000;
      });
      if (growing) {
        await registry.kill();
        killed = true;
      }
    }
    expect(killed).toBe(true);
    const failed = await push.done;
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`cannot reach http://${registry.host}`);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    registry = await startRegistry(join(work, 'registry'), { port: Number(registry.host.split(':')[1]) });
    const rerun = tsbuildSync(['push', '--root', root, 'local/big:1', target]);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(run('skopeo', ['inspect', '--tls-verify=false', `docker://${target}`]).status).toBe(0);
  });

  it('names a missing image and a malformed reference clearly', () => {
    const missing = build(`FROM ${registry.host}/library/nothing:here\n`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`${registry.host}/library/nothing:here: not found in the registry`);
    const upper = build(`FROM ${registry.host}/Library/Busybox:oci\n`);
    expect(upper.status).toBe(1);
    expect(upper.stderr).toContain('repository name must be lowercase');
  });
});
