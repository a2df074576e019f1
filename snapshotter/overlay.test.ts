import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOverlaySnapshotter, snapshotId, writableOverlay } from './overlay.js';
import { RECORD_FILE, writeRecord } from './records.js';
import { describeSnapshotter } from './suite.js';
import { asActiveKey, asSnapshotName } from './types.js';

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tsbuild-snap-'));
  roots.push(root);
  return root;
}

describeSnapshotter('overlay', async () => openOverlaySnapshotter(join(await freshRoot(), 'snapshots')));

describe('overlay snapshotter on disk', () => {
  it('takes a directory that commit renamed, with its committing record, for the committed snapshot', async () => {
    const root = join(await freshRoot(), 'snapshots');
    const s = await openOverlaySnapshotter(root);
    await s.prepare(asActiveKey('k'));
    // What commit('n', 'k') leaves on disk, as another process finds it.
    const record = JSON.parse(await readFile(join(root, snapshotId('k'), RECORD_FILE), 'utf8'));
    await writeRecord(join(root, snapshotId('k')), { ...record, committing: 'n' });
    await rename(join(root, snapshotId('k')), join(root, snapshotId('n')));

    const reopened = await openOverlaySnapshotter(root);
    const walked = [];
    for await (const info of reopened.walk()) walked.push(info);
    expect(walked).toMatchObject([{ name: 'n', kind: 'committed' }]);
    expect(await reopened.stat(asSnapshotName('n'))).toMatchObject({ kind: 'committed' });
    await expect(reopened.stat(asActiveKey('k'))).rejects.toMatchObject({ reason: 'NOT_FOUND' });
  });

  it('leaves nothing in staging after prepare, commit and remove', async () => {
    const root = join(await freshRoot(), 'snapshots');
    const s = await openOverlaySnapshotter(root);
    await s.prepare(asActiveKey('a'));
    await s.commit(asSnapshotName('b'), asActiveKey('a'));
    await expect(s.prepare(asActiveKey('b'))).rejects.toMatchObject({ reason: 'ALREADY_EXISTS' });
    await s.remove(asSnapshotName('b'));
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
    expect(await readdir(root)).toEqual(['.tmp']);
  });

  it('reads snapshots as earlier versions laid them out: <sha256 of the name, 128 bits>/{info.json,fs,work}', async () => {
    const root = join(await freshRoot(), 'snapshots');
    // Written by hand, byte for byte as the first version wrote them: this layout is a promise.
    const layout: Record<string, string> = {
      cae662172fd450bb0cd710a769079c05: '{"version":1,"kind":"committed","name":"base","created":"2026-01-02T03:04:05.000Z"}\n',
      ddc9e669194254cef019a29d3619a2c1: '{"version":1,"kind":"committed","name":"child","parent":"base","created":"2026-01-02T03:04:06.000Z"}\n',
    };
    for (const [id, record] of Object.entries(layout)) {
      await mkdir(join(root, id, 'fs'), { recursive: true });
      await mkdir(join(root, id, 'work'));
      await writeFile(join(root, id, 'info.json'), record);
    }
    await writeFile(join(root, 'ddc9e669194254cef019a29d3619a2c1', 'fs', 'file'), 'from an earlier version');
    const s = await openOverlaySnapshotter(root);
    const walked = [];
    for await (const info of s.walk()) walked.push(info);
    expect(walked).toEqual([
      { name: 'base', kind: 'committed', created: '2026-01-02T03:04:05.000Z' },
      { name: 'child', kind: 'committed', parent: 'base', created: '2026-01-02T03:04:06.000Z' },
    ]);
    expect(await s.lowerDirs(asSnapshotName('child'))).toEqual([
      join(root, 'ddc9e669194254cef019a29d3619a2c1', 'fs'),
      join(root, 'cae662172fd450bb0cd710a769079c05', 'fs'),
    ]);
    const top = writableOverlay(await s.prepare(asActiveKey('next'), asSnapshotName('child')));
    expect(await readFile(join(top.lowers[0]!, 'file'), 'utf8')).toBe('from an earlier version');
  });

  it('refuses a root whose path cannot appear in mount options', async () => {
    await expect(openOverlaySnapshotter(join(await freshRoot(), 'a:b'))).rejects.toMatchObject({ reason: 'MOUNT' });
  });
});

describe('writableOverlay', () => {
  it('reads an active snapshot’s directories back from its mounts, with or without a parent', async () => {
    const s = await openOverlaySnapshotter(join(await freshRoot(), 'snapshots'));
    const alone = writableOverlay(await s.prepare(asActiveKey('alone')));
    expect(alone).toEqual({ lowers: [], upper: await s.upperDir(asActiveKey('alone')), work: await s.workDir(asActiveKey('alone')) });
    await s.commit(asSnapshotName('base'), asActiveKey('alone'));
    await s.prepare(asActiveKey('top'), asSnapshotName('base'));
    await s.commit(asSnapshotName('mid'), asActiveKey('top'));
    const child = writableOverlay(await s.prepare(asActiveKey('child'), asSnapshotName('mid')));
    expect(child).toEqual({
      lowers: await s.lowerDirs(asSnapshotName('mid')),
      upper: await s.upperDir(asActiveKey('child')),
      work: await s.workDir(asActiveKey('child')),
    });
    expect(child.lowers).toHaveLength(2);
  });

  it('refuses read-only mounts and mounts it did not make', async () => {
    const s = await openOverlaySnapshotter(join(await freshRoot(), 'snapshots'));
    await s.prepare(asActiveKey('a'));
    await s.commit(asSnapshotName('one'), asActiveKey('a'));
    await s.prepare(asActiveKey('b'), asSnapshotName('one'));
    await s.commit(asSnapshotName('two'), asActiveKey('b'));
    for (const mounts of [
      await s.view(asActiveKey('v1'), asSnapshotName('one')),
      await s.view(asActiveKey('v2'), asSnapshotName('two')),
      [{ type: 'bind', source: '/tmp', options: ['rw', 'rbind'] }],
      [],
    ]) {
      expect(() => writableOverlay(mounts)).toThrow(expect.objectContaining({ reason: 'INVALID_ARGUMENT' }));
    }
  });
});
