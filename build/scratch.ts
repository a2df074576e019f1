/**
 * Each process's scratch space (mount points, secret tmpfs, script pipes) is a directory of
 * its own below the state's `tmp/`, named by its pid. A process killed before it could clean
 * up leaves its directory behind; the next process to open the state removes the directories
 * of processes that are gone. Nothing is removed while a mount below it is visible: a
 * recursive delete through a mounted snapshot would delete the snapshot's files.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isPidAlive } from '../content/index.js';

const NAME = /^(\d+)-[0-9a-f]+$/;

/** A new scratch directory name for this process below `tmpRoot` (not yet made). */
export function scratchDirFor(tmpRoot: string): string {
  return join(tmpRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Mount points of this process's mount namespace (mountinfo's octal escapes decoded). */
function mountPoints(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

function hasMountBelow(dir: string, mounts: readonly string[]): boolean {
  return mounts.some((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Removes a scratch directory, unless something is still mounted below it. */
export async function removeScratch(dir: string): Promise<void> {
  if (hasMountBelow(dir, mountPoints())) return;
  await rm(dir, { recursive: true, force: true });
}

/** Removes the scratch directories of processes that no longer run. */
export async function sweepStaleScratch(tmpRoot: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(tmpRoot);
  } catch {
    return;
  }
  const mounts = mountPoints();
  for (const name of names) {
    const m = NAME.exec(name);
    if (m === null || isPidAlive(Number(m[1]))) continue;
    const dir = join(tmpRoot, name);
    if (!hasMountBelow(dir, mounts)) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
