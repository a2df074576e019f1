import { mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOverlaySnapshotter, snapshotId } from './overlay.js';
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
