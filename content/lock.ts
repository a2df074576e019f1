/**
 * A cross-process mutex of the state directory: for short critical sections (rewriting
 * images/index.json, pruning) and for locked cache mounts.
 *
 * It is flock(2) on a lock file at the given path, created when missing and never removed
 * (removing it would let two processes lock two different files of the same name). The kernel
 * releases the lock when its open file is closed, and so on any exit, SIGKILL included: there
 * is no stale state to break. It holds across mount and network namespaces and containers that
 * share the root directory; like every flock, not across NFS clients.
 */
import { closeSync, openSync } from 'node:fs';
import { native } from '../native/index.js';
import { ContentError } from './errors.js';

export interface LockOptions {
  /** Give up after this long (default 60 s). */
  readonly timeoutMs?: number;
}

/** A held lock; `release` frees it (the process exiting frees it too). */
export interface HeldLock {
  release(): Promise<void>;
}

/** Runs `fn` while holding the lock at `lockPath` (its directory must exist). */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const fd = await acquire(lockPath, options.timeoutMs ?? 60_000);
  try {
    return await fn();
  } finally {
    closeSync(fd);
  }
}

/**
 * Takes the lock and keeps it until released, for locks held across long work (a RUN step).
 * Waits as long as it takes, unless `signal` aborts.
 */
export async function holdLock(lockPath: string, options: { readonly signal?: AbortSignal } = {}): Promise<HeldLock> {
  return held(await acquire(lockPath, Infinity, options.signal));
}

/** Takes the lock if it is free right now; undefined when another holder has it. */
export async function tryLock(lockPath: string): Promise<HeldLock | undefined> {
  const fd = tryOnce(lockPath);
  return fd === undefined ? undefined : held(fd);
}

function held(fd: number): HeldLock {
  let open = true;
  return {
    release: async () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** The lock file's descriptor, holding the lock; undefined when another open file holds it. */
function tryOnce(lockPath: string): number | undefined {
  // Node opens with O_CLOEXEC: a RUN's processes never inherit (and so never keep) the lock.
  const fd = openSync(lockPath, 'a', 0o644);
  try {
    if (native().tryLockExclusive(fd)) return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  closeSync(fd);
  return undefined;
}

async function acquire(lockPath: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  for (;;) {
    signal?.throwIfAborted();
    const fd = tryOnce(lockPath);
    if (fd !== undefined) return fd;
    if (Date.now() > deadline) throw new ContentError('LOCKED', `timed out after ${timeoutMs} ms waiting for the lock on ${lockPath}`);
    await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    wait = Math.min(wait * 2, 100);
  }
}
