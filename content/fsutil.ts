/**
 * Small file-system steps every state-dir writer needs: unique temp names beside the target,
 * atomic replace (write, fsync, rename, fsync the directory), and "is this pid alive".
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from './errors.js';

/** A temp path in the same directory as `target` (so a rename is atomic), naming our pid. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/**
 * Removes at once, synchronously, every temp path this process made for `target` with
 * tempPathFor: for a process that must exit now and leave nothing half-written beside it.
 */
export function removeOwnTempPathsSync(target: string): void {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.tmp-${process.pid}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix)) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * Removes the temp paths for `target` (tempPathFor) of processes that are gone: what a writer
 * killed before it could clean up left beside the target. Those of live processes stay.
 */
export async function removeStaleTempPaths(target: string): Promise<void> {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length))?.[1];
    if (pid !== undefined && !isPidAlive(Number(pid))) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** Makes a rename or create inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncDir by synchronous calls, for writers that make their whole write so. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `target` with `data` so readers see the old or the new file, never a mix. Durable
 * (synced, file and directory) unless `durable` is false: for files that mean nothing once
 * their process is gone, such as leases, which a crash of the machine ends anyway.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644, durable = true): Promise<void> {
  const temp = tempPathFor(target);
  try {
    const fh = await open(temp, 'wx', mode);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(target));
}

/**
 * writeFileAtomic by synchronous calls, for writers of a few bytes where the thread pool's
 * hand-overs (one per call) cost more than the calls themselves.
 */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode = 0o644, durable = true): void {
  const temp = tempPathFor(target);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeFileSync(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  if (durable) fsyncDirSync(dirname(target));
}

/** True while a process with this pid exists (EPERM means it exists but is not ours). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}
