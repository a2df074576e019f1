/**
 * A directory output made in a temp directory beside `dest` and renamed into place, so a
 * failed or killed export never leaves a half-written `dest`. An existing `dest` is moved
 * aside first and removed after the swap.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode, fsyncDir, tempPathFor } from '../content/index.js';

export async function writeDirAtomically(dest: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = tempPathFor(dest);
  await mkdir(temp, { mode: 0o755 });
  try {
    await fill(temp);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
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
