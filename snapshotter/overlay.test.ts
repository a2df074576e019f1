import { mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
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
