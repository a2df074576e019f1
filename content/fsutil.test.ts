// The atomic replace every state-dir writer shares: the file ends with the new bytes and mode,
// and nothing of the temp file is left beside it, whether the write succeeds or fails.
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeStaleTempPaths, tempPathFor, writeFileAtomic, writeFileAtomicSync } from './fsutil.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-fsutil-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const writers = [
  ['writeFileAtomic', writeFileAtomic],
  ['writeFileAtomicSync', async (...args: Parameters<typeof writeFileAtomicSync>) => writeFileAtomicSync(...args)],
] as const;

describe.each(writers)('%s', (_name, write) => {
  it('replaces the file with the new bytes and mode, leaving no temp file', async () => {
    const target = join(dir, 'record.json');
    await write(target, 'old');
    await write(target, 'new', 0o600);
    expect(await readFile(target, 'utf8')).toBe('new');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    await write(target, Buffer.from('bytes'), 0o644, false);
    expect(await readFile(target, 'utf8')).toBe('bytes');
    expect(await readdir(dir)).toEqual(['record.json']);
  });

  it('leaves the old file and no temp file when the rename fails', async () => {
    const target = join(dir, 'taken');
    await mkdir(join(target, 'inside'), { recursive: true }); // a non-empty directory: rename fails
    await expect(write(target, 'data')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readdir(target)).toEqual(['inside']);
  });
});

describe('removeStaleTempPaths', () => {
  it('removes the temp paths of processes that are gone, and only those', async () => {
    const target = join(dir, 'cache');
    // A pid no process has (above the kernel's pid_max ceiling), and this process's own.
    const stale = join(dir, '.cache.tmp-4194305-0123456789ab');
    const own = tempPathFor(target);
    const other = join(dir, '.cachex.tmp-4194305-0123456789ab');
    for (const d of [stale, own, other]) await mkdir(join(d, 'blobs'), { recursive: true });
    await removeStaleTempPaths(target);
    expect((await readdir(dir)).sort()).toEqual([other, own].map((p) => p.slice(dir.length + 1)).sort());
  });
});
