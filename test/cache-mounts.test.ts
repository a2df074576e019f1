// RUN --mount=type=cache contents through the build cache (`--cache-to …,mounts=`), shaped like
// CI: runner A's RUN writes into its cache mount and exports it; a fresh runner (empty state
// directory) whose changed RUN runs imports it and finds A's file in the mount. An unchanged
// mount exported again reuses its blob: the layout's blob file untouched, nothing uploaded to
// the registry. A build whose RUNs all hit reads no archive. With type=local and type=registry
// (the loopback registry).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync('/var/tmp/tsbuild-cache-mounts-');
const context = join(work, 'checkout');

const dockerfile = (run: string) => ['FROM scratch', 'COPY rootfs/ /', `RUN --mount=type=cache,target=/c ${run}`, ''].join('\n');
const seeded = (run: string) => ['FROM scratch AS seed', 'COPY seed/ /s/', 'FROM scratch', 'COPY rootfs/ /', `RUN --mount=type=cache,target=/c,from=seed,source=/s ${run}`, ''].join('\n');
/** Runner A's RUN writes into the cache; runner B's (another command, so it runs) reads it. */
const FILES = {
  'Dockerfile.a': dockerfile('echo RAN-A && echo written-by-A > /c/a.txt && ls /c > /seen'),
  'Dockerfile.b': dockerfile('echo RAN-B && ls /c > /seen && cat /c/a.txt >> /seen && echo written-by-B > /c/b.txt'),
  'Dockerfile.c': dockerfile('echo RAN-C && ls /c > /seen'),
  // A cache seeded from= a stage: the stage comes from the imported cache, the same layers.
  'Dockerfile.sa': seeded('echo RAN-SA && echo by-A > /c/gathered.txt'),
  'Dockerfile.sb': seeded('echo RAN-SB && ls /c > /seen'),
  'seed/seed.txt': 'from the seed stage\n',
};

function build(root: string, file: 'a' | 'b' | 'c' | 'sa' | 'sb', out: string, extra: readonly string[]): Run {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', '-f', join(context, `Dockerfile.${file}`), '-o', `type=local,dest=${out}`, ...extra, context]);
}
const ran = (r: Run, marker: string) => new RegExp(`^#\\d+ [\\d.]+ ${marker}$`, 'm').test(r.stderr);
/** Blobs the imports read (one progress line each: layers and cache mount archives alike). */
const blobsRead = (r: Run) => [...r.stderr.matchAll(/^#\d+ reading layer (sha256:[0-9a-f]{64}) /gm)].map((m) => m[1]!);
/** The cache mount directories of a state directory. */
const mountDirs = (root: string) => (existsSync(join(root, 'cache-mounts')) ? readdirSync(join(root, 'cache-mounts')).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);

interface Manifest {
  config: { digest: string };
  layers: { mediaType: string; digest: string }[];
}
interface Config {
  records: unknown[];
  mounts?: { id: string; layer: number }[];
}
/** The cache mount archives of a cache: id → blob digest. */
const mountsOf = (m: Manifest, c: Config) => Object.fromEntries((c.mounts ?? []).map((e) => [e.id, m.layers[e.layer]!.digest]));

describe.skipIf(!isRoot && !isCI)('--cache-to …,mounts= / --cache-from: RUN --mount=type=cache contents', () => {
  beforeAll(async () => {
    writeContext(context, FILES);
    await makeBusyboxRootfs(join(context, 'rootfs'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('type=local', () => {
    const cache = join(work, 'ci-cache');
    const blob = (digest: string) => join(cache, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const read = () => {
      const index = JSON.parse(readFileSync(join(cache, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      const m = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as Manifest;
      return { m, c: JSON.parse(readFileSync(blob(m.config.digest), 'utf8')) as Config };
    };
    let archive: string;

    beforeAll(() => {
      const a = build(join(work, 'root-a'), 'a', join(work, 'out-a'), ['--cache-to', `type=local,dest=${cache},mode=max,mounts=true`]);
      expectOk(a);
      expect(ran(a, 'RAN-A')).toBe(true);
      archive = mountsOf(read().m, read().c)['/c']!;
    });

    it('exports the cache mount as one gzip layer blob listed under its id, holding what the RUN wrote', () => {
      const { m, c } = read();
      expect(c.mounts).toHaveLength(1);
      expect(archive).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(m.layers.find((l) => l.digest === archive)!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
      // GNU tar reads it: the cache directory's files.
      const list = spawnSync('tar', ['-tzf', blob(archive)], { encoding: 'utf8' });
      expect(list.status).toBe(0);
      expect(list.stdout.split('\n')).toContain('a.txt');
    });

    it('a fresh runner whose RUN runs finds runner A\'s file in its cache mount', () => {
      const out = join(work, 'out-b');
      const r = build(join(work, 'root-b'), 'b', out, ['--cache-from', `type=local,src=${cache}`]);
      expectOk(r);
      expect(ran(r, 'RAN-B')).toBe(true);
      expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('a.txt\nwritten-by-A\n');
      expect(blobsRead(r)).toContain(archive);
    });

    it('a fresh runner whose RUNs all hit reads no archive; its export carries the archive over, the blob file untouched', () => {
      const before = statSync(blob(archive));
      const root = join(work, 'root-c');
      const r = build(root, 'a', join(work, 'out-c'), ['--cache-from', `type=local,src=${cache}`, '--cache-to', `type=local,dest=${cache},mode=max,mounts=true`]);
      expectOk(r);
      expect(ran(r, 'RAN-A')).toBe(false);
      expect(blobsRead(r)).not.toContain(archive);
      expect(mountDirs(root)).toEqual([]);
      expect(mountsOf(read().m, read().c)).toEqual({ '/c': archive });
      const after = statSync(blob(archive));
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    });

    it('an unchanged cache mount exported again reuses its blob; a changed one gets a new one', () => {
      const before = statSync(blob(archive));
      // Runner A again: the RUN hits, its cache directory is as it exported it.
      const again = build(join(work, 'root-a'), 'a', join(work, 'out-a2'), ['--cache-from', `type=local,src=${cache}`, '--cache-to', `type=local,dest=${cache},mounts=true`]);
      expectOk(again);
      expect(mountsOf(read().m, read().c)).toEqual({ '/c': archive });
      const after = statSync(blob(archive));
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
      // Runner B's RUN wrote b.txt into its copy: its export is another archive, holding both files.
      const changed = build(join(work, 'root-b'), 'b', join(work, 'out-b2'), ['--cache-to', `type=local,dest=${cache},mounts=/c`]);
      expectOk(changed);
      const next = mountsOf(read().m, read().c)['/c']!;
      expect(next).not.toBe(archive);
      expect(spawnSync('tar', ['-tzf', blob(next)], { encoding: 'utf8' }).stdout.split('\n')).toEqual(expect.arrayContaining(['a.txt', 'b.txt']));
    });

    it('without mounts= a cache holds no archive, and a cache mount the local directory has is never overwritten', () => {
      const plain = join(work, 'plain-cache');
      expectOk(build(join(work, 'root-a'), 'a', join(work, 'out-plain'), ['--cache-to', `type=local,dest=${plain},mode=max`]));
      const index = JSON.parse(readFileSync(join(plain, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      const m = JSON.parse(readFileSync(join(plain, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as Manifest;
      expect(JSON.parse(readFileSync(join(plain, 'blobs', 'sha256', m.config.digest.slice(7)), 'utf8'))).not.toHaveProperty('mounts');
      // Runner A has its own /c (a.txt only); the cache's archive now holds b.txt too. A RUN
      // that runs there sees A's own directory: the import does not overwrite it.
      const out = join(work, 'out-c2');
      const r = build(join(work, 'root-a'), 'c', out, ['--cache-from', `type=local,src=${cache}`]);
      expectOk(r);
      expect(ran(r, 'RAN-C')).toBe(true);
      expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('a.txt\n');
      expect(blobsRead(r)).toEqual([]);
    });
  });

  it('a cache seeded from= a stage: restored where the stage has the same layers', () => {
    const cache = join(work, 'seeded-cache');
    const a = build(join(work, 'seed-root-a'), 'sa', join(work, 'seed-out-a'), ['--cache-to', `type=local,dest=${cache},mode=max,mounts=true`]);
    expectOk(a);
    expect(ran(a, 'RAN-SA')).toBe(true);
    const out = join(work, 'seed-out-b');
    const b = build(join(work, 'seed-root-b'), 'sb', out, ['--cache-from', `type=local,src=${cache}`]);
    expectOk(b);
    expect(ran(b, 'RAN-SB')).toBe(true);
    // Runner A's file beside the seed's: the archive, not a fresh seed.
    expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('gathered.txt\nseed.txt\n');
  });

  describe('type=registry', () => {
    let registry: TestRegistry;
    let ref: string;
    const inspect = (): Manifest => {
      const r = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`skopeo inspect failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Manifest;
    };
    const archiveOf = async (): Promise<string | undefined> => {
      const m = inspect();
      const c = (await (await fetch(`http://${registry.host}/v2/cache/blobs/${m.config.digest}`)).json()) as Config;
      return mountsOf(m, c)['/c'];
    };

    beforeAll(async () => {
      registry = await startRegistry(join(work, 'registry'));
      ref = `${registry.host}/cache:mounts`;
      expectOk(build(join(work, 'reg-root-a'), 'a', join(work, 'reg-out-a'), ['--cache-to', `type=registry,ref=${ref},mounts=true`]));
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it('a fresh runner whose RUN runs finds runner A\'s file; an unchanged mount exported again is not uploaded', async () => {
      const archive = await archiveOf();
      expect(archive).toMatch(/^sha256:[0-9a-f]{64}$/);
      // Runner A's export uploaded it (the upload's final PUT names its digest).
      expect(registry.requests().some((q) => q.method === 'PUT' && q.uri.includes('/blobs/uploads/') && q.uri.includes(archive!.slice(7)))).toBe(true);
      const out = join(work, 'reg-out-b');
      const r = build(join(work, 'reg-root-b'), 'b', out, ['--cache-from', ref]);
      expectOk(r);
      expect(ran(r, 'RAN-B')).toBe(true);
      expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('a.txt\nwritten-by-A\n');
      expect(registry.requests().some((q) => q.method === 'GET' && q.uri.endsWith(`/blobs/${archive!}`))).toBe(true);

      // Runner A exports again, its mount unchanged: the same blob, neither probed nor uploaded.
      const before = registry.requests().length;
      expectOk(build(join(work, 'reg-root-a'), 'a', join(work, 'reg-out-a2'), ['--cache-from', ref, '--cache-to', `type=registry,ref=${ref},mounts=true`]));
      const requests = registry.requests().slice(before);
      expect(await archiveOf()).toBe(archive);
      expect(requests.filter((q) => q.uri.includes(archive!.slice(7)))).toEqual([]);
      // The export did write: a new manifest under the tag.
      expect(requests.some((q) => q.method === 'PUT' && q.uri.includes('/manifests/mounts'))).toBe(true);
    });
  });
});
