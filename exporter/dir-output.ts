/**
 * A directory output made in a temp directory beside `dest` and swapped into place, so a
 * failed or killed export never leaves a half-written `dest`, nor none at all: an existing
 * `dest` trades places with the new directory in one atomic step (renameat2 RENAME_EXCHANGE)
 * and is removed after. Where the file system cannot exchange, the old one is moved aside
 * first (a kill between the two renames would then leave no `dest`). Temp directories a
 * killed process left beside `dest` are removed by the next export to it.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode, fsyncDir, removeStaleTempPaths, tempPathFor } from '../content/index.js';
import { native } from '../native/index.js';

/** Swaps `temp` and `dest` atomically; false when `dest` is not there or the file system cannot. */
function exchanged(temp: string, dest: string): boolean {
  try {
    native().renameExchange(temp, dest);
    return true;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return false;
    throw e;
  }
}

export async function writeDirAtomically(dest: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await removeStaleTempPaths(dest);
  const temp = tempPathFor(dest);
  await mkdir(temp, { mode: 0o755 });
  try {
    await fill(temp);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  let swapped: boolean;
  try {
    swapped = exchanged(temp, dest);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  if (swapped) {
    // `temp` now holds the old directory.
    await fsyncDir(dirname(dest));
    await rm(temp, { recursive: true, force: true });
    return;
  }
  const old = tempPathFor(dest);
  let movedAside = false;
  try {
    await rename(dest, old);
    movedAside = true;
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      await rm(temp, { recursive: true, force: true });
      throw e;
    }
  }
  await rename(temp, dest);
  await fsyncDir(dirname(dest));
  if (movedAside) await rm(old, { recursive: true, force: true });
}
