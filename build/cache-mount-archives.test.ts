// Cache mount archives through real parts: a state directory's cache directory exported as a
// layer blob into a real local cache layout, and restored from it into another state directory
// by the step mounts a RUN sets up.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCache, writeLocalCache, type CacheMountArchive } from '../cache/index.js';
import { DEFAULT_LAYER_FORMAT } from '../exporter/index.js';
import { parseRunMount } from '../frontend/instructions/index.js';
import { MediaType } from '../oci/index.js';
import { asActiveKey, asSnapshotName, type SnapshotName } from '../snapshotter/index.js';
import { vertex, type ExecMount } from '../solver/core/index.js';
import { cacheMountName, ExecOp } from '../solver/ops/index.js';
import { StepMounts } from '../solver/ops/exec-mounts.js';
import { openCacheImports, type ImportedCache } from './cache-import.js';
import { CacheMountArchives } from './cache-mount-archives.js';
import { fileLocks } from './file-locks.js';
import { openState, type State } from './state.js';

const work = mkdtempSync('/var/tmp/tsbuild-mount-archives-');
const layout = join(work, 'ci-cache');
const planned = (spec: string, kind: 'none' | 'input' = 'none'): ExecMount => ({ mount: parseRunMount(spec), source: { kind } });
const noLocal = () => {
  throw new Error('no local context expected');
};

/** A RUN with a cache mount `pip`, and one `seeded` from= a stage, as the graph of a build. */
function runVertex(state: State) {
  const op = new ExecOp(
    {
      store: state,
      locks: fileLocks,
      local: noLocal,
      proxyEnv: [],
      executor: {
        run: () => {
          throw new Error('nothing runs here');
        },
      },
    },
    {
      kind: 'exec',
      args: ['true'],
      env: [],
      cwd: '/',
      user: '',
      network: 'none',
      security: 'sandbox',
      mounts: [planned('type=cache,id=pip,target=/c'), planned('type=cache,id=seeded,target=/s,from=stage', 'input')],
    },
  );
  return vertex(op, [], { name: 'RUN true' });
}

/** A fresh state directory importing the layout, its cache mounts set up as a RUN would. */
async function importer(name: string): Promise<{ state: State; archives: CacheMountArchives; imports: ImportedCache[]; mountDir: () => Promise<string> }> {
  const state = await openState(join(work, name));
  const imports = await openCacheImports(state, [{ type: 'local', src: layout }], () => {}, () => {});
  const archives = new CacheMountArchives(state);
  archives.useImports(imports);
  archives.useGraph(runVertex(state));
  const mountDir = async () => {
    const m = new StepMounts({ store: state, locks: fileLocks, local: noLocal, cacheMountRestorer: archives }, '/', new AbortController().signal);
    await m.add(planned('type=cache,id=pip,target=/c'), () => {
      throw new Error('no input expected');
    });
    const first = m.mounts[0]!;
    await m.release();
    if (first.type !== 'bind') throw new Error('a cache mount is a bind mount');
    return first.source;
  };
  return { state, archives, imports, mountDir };
}

describe('cache mount archives', () => {
  let exported: Awaited<ReturnType<CacheMountArchives['archives']>>;
  const warnings: string[] = [];

  beforeAll(async () => {
    const a = await openState(join(work, 'a'));
    const dir = join(a.cacheMountsDir, cacheMountName('pip'));
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'from runner A\n');
    writeFileSync(join(dir, 'sub', 'b.txt'), 'deeper\n');
    const archives = new CacheMountArchives(a);
    archives.useGraph(runVertex(a));
    exported = await archives.archives(true, DEFAULT_LAYER_FORMAT, `local:${layout}`, (w) => warnings.push(w));
    exported.push(...(await archives.archives(['nope'], DEFAULT_LAYER_FORMAT, `local:${layout}`, (w) => warnings.push(w))));
    await writeLocalCache(layout, encodeCache([], exported), a.content);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exports each cache of the build as one layer blob; an id no RUN mounts is a warning', () => {
    expect(exported.map((m) => m.id)).toEqual(['pip']);
    expect(exported[0]!.layer.blob.mediaType).toBe(MediaType.ociLayerGzip);
    expect(existsSync(join(layout, 'blobs', 'sha256', exported[0]!.layer.blob.digest.slice(7)))).toBe(true);
    expect(warnings).toEqual([`cache mount "nope" not exported to local:${layout}: no RUN of this build mounts it`]);
  });

  it('restores a cache a state directory lacks when a step mounts it, and reuses the blob when it is unchanged', async () => {
    const b = await importer('b');
    const dir = await b.mountDir();
    expect(dir).toBe(join(b.state.cacheMountsDir, cacheMountName('pip')));
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('from runner A\n');
    expect(readFileSync(join(dir, 'sub', 'b.txt'), 'utf8')).toBe('deeper\n');
    expect(b.imports[0]!.layersRead).toBe(1);
    // Nothing left beside it from the extraction.
    expect(readdirSync(b.state.cacheMountsDir).filter((n) => n.includes('.seed-'))).toEqual([]);
    const again = await b.archives.archives(true, DEFAULT_LAYER_FORMAT, `local:${join(work, 'elsewhere')}`, () => {});
    expect(again).toEqual([{ id: 'pip', layer: exported[0]!.layer }]);
    writeFileSync(join(dir, 'new.txt'), 'B wrote this\n');
    const changed = await b.archives.archives(true, DEFAULT_LAYER_FORMAT, `local:${layout}`, () => {});
    expect(changed[0]!.layer.blob.digest).not.toBe(exported[0]!.layer.blob.digest);
    expect(changed[0]!.layer.diffId).not.toBe(exported[0]!.layer.diffId);
  });

  it('never overwrites a cache directory that exists, and reads nothing then', async () => {
    const c = await importer('c');
    const dir = join(c.state.cacheMountsDir, cacheMountName('pip'));
    mkdirSync(dir);
    writeFileSync(join(dir, 'mine.txt'), 'local\n');
    expect(await c.mountDir()).toBe(dir);
    expect(readdirSync(dir)).toEqual(['mine.txt']);
    expect(c.imports[0]!.layersRead).toBe(0);
  });

  it('leaves the caches of steps run without their cache empty', async () => {
    const d = await importer('d');
    d.archives.skip(['pip']);
    expect(readdirSync(await d.mountDir())).toEqual([]);
    expect(d.imports[0]!.layersRead).toBe(0);
  });

  it('carries an imported archive over when this machine has no directory for it', async () => {
    const e = await importer('e');
    const carried = await e.archives.archives(['pip'], DEFAULT_LAYER_FORMAT, `local:${layout}`, () => {});
    expect(carried).toEqual([{ id: 'pip', layer: exported[0]!.layer }]);
    // To the cache it came from: the layout holds the blob, nothing is read.
    expect(e.imports[0]!.layersRead).toBe(0);
    await e.archives.archives(['pip'], DEFAULT_LAYER_FORMAT, `local:${join(work, 'other')}`, () => {});
    expect(e.imports[0]!.layersRead).toBe(1);
    expect(await e.state.content.has(exported[0]!.layer.blob.digest)).toBe(true);
  });

  it('keeps an imported archive\'s compression, unless force-compression asks for another', async () => {
    const f = await importer('f');
    const zstd = { compression: 'zstd' as const, ociMediaTypes: true };
    expect(await f.archives.archives(['pip'], zstd, `local:${layout}`, () => {})).toEqual([{ id: 'pip', layer: exported[0]!.layer }]);
    const [forced] = await f.archives.archives(['pip'], { ...zstd, force: true }, `local:${layout}`, () => {});
    expect(forced!.layer.blob.mediaType).toBe(MediaType.ociLayerZstd);
    expect(forced!.layer.blob.digest).not.toBe(exported[0]!.layer.blob.digest);
    // The same tar, compressed again.
    expect(forced!.layer.diffId).toBe(exported[0]!.layer.diffId);
    expect(await f.state.content.has(forced!.layer.blob.digest)).toBe(true);
    // Docker media types name the same blob as Docker's.
    const [docker] = await f.archives.archives(['pip'], { compression: 'gzip', ociMediaTypes: false }, `local:${layout}`, () => {});
    expect(docker!.layer.blob).toEqual({ ...exported[0]!.layer.blob, mediaType: MediaType.dockerLayerGzip });
  });

  describe('a cache seeded from= a stage', () => {
    const seededLayout = join(work, 'seeded-cache');
    /** A committed snapshot holding /src/seed.txt (`text`), the same bytes and times on any root. */
    async function sourceSnapshot(state: State, text: string): Promise<SnapshotName> {
      const key = asActiveKey(`src-${randomUUID()}`);
      await state.snapshots.prepare(key);
      const upper = await state.snapshots.upperDir(key);
      mkdirSync(join(upper, 'src'));
      writeFileSync(join(upper, 'src', 'seed.txt'), text);
      for (const p of [join(upper, 'src', 'seed.txt'), join(upper, 'src')]) utimesSync(p, 1_700_000_000, 1_700_000_000);
      const name = asSnapshotName(`layer-${randomUUID()}`);
      await state.snapshots.commit(name, key);
      return name;
    }
    /** The directory a step mounting cache `seeded` from `snapshot`'s /src gets. */
    async function seededDir(state: State, archives: CacheMountArchives, snapshot: SnapshotName): Promise<string> {
      const m = new StepMounts({ store: state, locks: fileLocks, local: noLocal, cacheMountRestorer: archives }, '/', new AbortController().signal);
      await m.add(planned('type=cache,id=seeded,target=/s,from=stage,source=/src', 'input'), () => ({ snapshot }));
      const first = m.mounts[0]!;
      await m.release();
      if (first.type !== 'bind') throw new Error('a cache mount is a bind mount');
      return first.source;
    }
    let archive: CacheMountArchive;

    beforeAll(async () => {
      const a = await openState(join(work, 'seed-a'));
      const archives = new CacheMountArchives(a);
      archives.useGraph(runVertex(a));
      const dir = await seededDir(a, archives, await sourceSnapshot(a, 'seed\n'));
      writeFileSync(join(dir, 'gathered.txt'), 'by runner A\n');
      const out = await archives.archives(['seeded'], DEFAULT_LAYER_FORMAT, `local:${seededLayout}`, () => {});
      expect(out).toHaveLength(1);
      archive = out[0]!;
      await writeLocalCache(seededLayout, encodeCache([], out), a.content);
    });

    it('is exported under its id and its seed: the source\'s chain id and the path', () => {
      expect(archive.id).toBe('seeded');
      expect(archive.seed).toEqual({ chainId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), path: '/src' });
    });

    it('is restored where the source has the same layers, and seeded afresh from another source', async () => {
      const b = await openState(join(work, 'seed-b'));
      const imports = await openCacheImports(b, [{ type: 'local', src: seededLayout }], () => {}, () => {});
      const archives = new CacheMountArchives(b);
      archives.useImports(imports);
      archives.useGraph(runVertex(b));
      const same = await seededDir(b, archives, await sourceSnapshot(b, 'seed\n'));
      expect(readdirSync(same).sort()).toEqual(['gathered.txt', 'seed.txt']);
      expect(imports[0]!.layersRead).toBe(1);
      const other = await seededDir(b, archives, await sourceSnapshot(b, 'another seed\n'));
      expect(other).not.toBe(same);
      expect(readdirSync(other)).toEqual(['seed.txt']);
      expect(readFileSync(join(other, 'seed.txt'), 'utf8')).toBe('another seed\n');
      expect(imports[0]!.layersRead).toBe(1);
      // Both seeds the steps used are exported; the unchanged one reuses its blob.
      const again = await archives.archives(true, DEFAULT_LAYER_FORMAT, `local:${seededLayout}`, () => {});
      const seeded = again.filter((m) => m.id === 'seeded');
      expect(seeded).toHaveLength(2);
      expect(seeded).toContainEqual(archive);
    });

    it('is carried over as imported when no step mounting it ran', async () => {
      const c = await openState(join(work, 'seed-c'));
      const imports = await openCacheImports(c, [{ type: 'local', src: seededLayout }], () => {}, () => {});
      const archives = new CacheMountArchives(c);
      archives.useImports(imports);
      archives.useGraph(runVertex(c));
      expect(await archives.archives(['seeded'], DEFAULT_LAYER_FORMAT, `local:${seededLayout}`, () => {})).toEqual([archive]);
      expect(imports[0]!.layersRead).toBe(0);
    });
  });
});
