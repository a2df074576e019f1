/**
 * The conformance suite every Snapshotter implementation runs (overlay.test.ts runs it for the
 * overlay one). The interface, no mounting; content is put in and mounts are checked through
 * the directories of a snapshotter whose snapshots are directories (SnapshotDirectories).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSnapshotError, type SnapshotErrorReason } from './errors.js';
import { asActiveKey as key, asSnapshotName as name, type SnapshotDirectories, type Snapshotter } from './types.js';

async function rejectsWith(p: Promise<unknown>, reason: SnapshotErrorReason): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSnapshotError(error, reason), `expected ${reason}, got ${String(error)}`).toBe(true);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function describeSnapshotter(label: string, open: () => Promise<Snapshotter & SnapshotDirectories>): void {
  describe(`${label} snapshotter`, () => {
    it('prepare without a parent gives one writable bind mount of an empty dir', async () => {
      const s = await open();
      const mounts = await s.prepare(key('k1'));
      expect(mounts).toHaveLength(1);
      expect(mounts[0]!.type).toBe('bind');
      expect(mounts[0]!.options).toContain('rw');
      expect(await s.stat(key('k1'))).toMatchObject({ name: 'k1', kind: 'active' });
      expect(mounts[0]!.source).toBe(await s.upperDir(key('k1')));
    });

    it('commit turns a key into a parent and the key is gone', async () => {
      const s = await open();
      await s.prepare(key('base-key'));
      await writeFile(join(await s.upperDir(key('base-key')), 'hello'), 'hi');
      await s.commit(name('base'), key('base-key'));
      await rejectsWith(s.stat(key('base-key')), 'NOT_FOUND');
      expect(await s.stat(name('base'))).toMatchObject({ name: 'base', kind: 'committed' });
      const mounts = await s.prepare(key('child'), name('base'));
      expect(mounts).toHaveLength(1);
      expect(mounts[0]!.type).toBe('overlay');
      const lowers = await s.lowerDirs(name('base'));
      expect(mounts[0]!.options).toContain(`lowerdir=${lowers.join(':')}`);
      expect(mounts[0]!.options).toContain(`upperdir=${await s.upperDir(key('child'))}`);
      expect(mounts[0]!.options).toContain(`workdir=${await s.workDir(key('child'))}`);
      expect(await s.stat(key('child'))).toMatchObject({ kind: 'active', parent: 'base' });
    });

    it('adopt makes a directory filled elsewhere the content of an empty active snapshot', async () => {
      const s = await open();
      const filled = await s.stagingDir();
      await writeFile(join(filled, 'unpacked'), 'beside the others');
      await s.prepare(key('adopter'));
      await s.adopt(key('adopter'), filled);
      await s.commit(name('adopted'), key('adopter'));
      const { readFile } = await import('node:fs/promises');
      expect(await readFile(join(await s.upperDir(name('adopted')), 'unpacked'), 'utf8')).toBe('beside the others');
      // Only into an empty active snapshot, and only what stagingDir() made.
      const other = await s.stagingDir();
      await rejectsWith(s.adopt(key('adopted'), other), 'WRONG_KIND');
      await s.prepare(key('full'));
      await writeFile(join(await s.upperDir(key('full')), 'x'), 'x');
      await rejectsWith(s.adopt(key('full'), other), 'INVALID_ARGUMENT');
      await s.prepare(key('elsewhere'));
      await rejectsWith(s.adopt(key('elsewhere'), '/tmp'), 'INVALID_ARGUMENT');
    });

    it('lowerDirs lists the chain topmost first', async () => {
      const s = await open();
      let parent: ReturnType<typeof name> | undefined;
      for (const n of ['l0', 'l1', 'l2']) {
        await s.prepare(key(`${n}-key`), parent);
        await s.commit(name(n), key(`${n}-key`));
        parent = name(n);
      }
      const dirs = await s.lowerDirs(name('l2'));
      expect(dirs).toEqual([await s.upperDir(name('l2')), await s.upperDir(name('l1')), await s.upperDir(name('l0'))]);
    });

    it('committed names are immutable and keys unique', async () => {
      const s = await open();
      await s.prepare(key('a'));
      await s.commit(name('n'), key('a'));
      await s.prepare(key('b'));
      await rejectsWith(s.commit(name('n'), key('b')), 'ALREADY_EXISTS');
      expect(await s.stat(key('b'))).toMatchObject({ kind: 'active' }); // the failed commit left it alone
      await rejectsWith(s.prepare(key('b')), 'ALREADY_EXISTS');
      await rejectsWith(s.prepare(key('n')), 'ALREADY_EXISTS'); // keys and names share a namespace
      await rejectsWith(s.commit(name('m'), key('n') ), 'WRONG_KIND');
    });

    it('prepare refuses a missing or uncommitted parent', async () => {
      const s = await open();
      await rejectsWith(s.prepare(key('x'), name('nope')), 'NOT_FOUND');
      await s.prepare(key('active'));
      await rejectsWith(s.prepare(key('y'), name('active')), 'WRONG_KIND');
      await rejectsWith(s.stat(key('x')), 'NOT_FOUND');
    });

    it('remove refuses a snapshot that still has children', async () => {
      const s = await open();
      await s.prepare(key('p-key'));
      await s.commit(name('p'), key('p-key'));
      await s.prepare(key('c'), name('p'));
      await rejectsWith(s.remove(name('p')), 'HAS_CHILDREN');
      expect(await s.stat(name('p'))).toMatchObject({ kind: 'committed' });
      await s.remove(key('c'));
      await s.remove(name('p'));
      await rejectsWith(s.stat(name('p')), 'NOT_FOUND');
      await rejectsWith(s.remove(name('p')), 'NOT_FOUND');
      expect(await collect(s.walk())).toEqual([]);
    });

    it('view gives read-only mounts: a bind for one layer, an overlay for more', async () => {
      const s = await open();
      await s.prepare(key('v0-key'));
      await s.commit(name('v0'), key('v0-key'));
      const one = await s.view(key('view1'), name('v0'));
      expect(one).toEqual([{ type: 'bind', source: await s.upperDir(name('v0')), options: ['ro', 'rbind'] }]);
      await s.prepare(key('v1-key'), name('v0'));
      await s.commit(name('v1'), key('v1-key'));
      const two = await s.view(key('view2'), name('v1'));
      expect(two[0]!.type).toBe('overlay');
      expect(two[0]!.options).toContain('ro');
      expect(two[0]!.options.some((o) => o.startsWith('upperdir='))).toBe(false);
      expect(await s.stat(key('view2'))).toMatchObject({ kind: 'view', parent: 'v1' });
      await rejectsWith(s.commit(name('v2'), key('view2')), 'WRONG_KIND');
      await rejectsWith(s.remove(name('v1')), 'HAS_CHILDREN'); // a view is a child too
    });

    it('walk lists every snapshot once with its kind and parent', async () => {
      const s = await open();
      await s.prepare(key('w0'));
      await s.commit(name('w'), key('w0'));
      await s.prepare(key('w1'), name('w'));
      await s.view(key('w2'), name('w'));
      const infos = (await collect(s.walk())).sort((a, b) => a.name.localeCompare(b.name));
      expect(infos.map((i) => [i.name, i.kind, i.parent])).toEqual([
        ['w', 'committed', undefined],
        ['w1', 'active', 'w'],
        ['w2', 'view', 'w'],
      ]);
      for (const i of infos) expect(Number.isNaN(Date.parse(i.created))).toBe(false);
    });

    it('usage counts bytes and inodes of the layer, hard links once', async () => {
      const s = await open();
      await s.prepare(key('u'));
      const dir = await s.upperDir(key('u'));
      const empty = await s.usage(key('u'));
      expect(empty.inodes).toBe(1);
      await mkdir(join(dir, 'd'));
      await writeFile(join(dir, 'd', 'big'), Buffer.alloc(64 * 1024, 1));
      const { link } = await import('node:fs/promises');
      await link(join(dir, 'd', 'big'), join(dir, 'd', 'same'));
      const used = await s.usage(key('u'));
      expect(used.inodes).toBe(3);
      expect(used.size).toBeGreaterThanOrEqual(empty.size + 64 * 1024);
      expect(used.size).toBeLessThan(empty.size + 2 * 64 * 1024 + 16 * 1024);
    });

    it('keys may hold any characters, slashes and dots included', async () => {
      const s = await open();
      const odd = key('../../etc/passwd:with,commas/\u00e9');
      await s.prepare(odd);
      expect(await s.stat(odd)).toMatchObject({ name: odd });
      await s.commit(name('sha256:0123/..'), odd);
      expect(await s.stat(name('sha256:0123/..'))).toMatchObject({ kind: 'committed' });
    });
  });
}
