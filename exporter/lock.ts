/**
 * A cross-process mutex for short critical sections (rewriting images/index.json, pruning).
 *
 * It is an abstract Unix socket whose name is derived from the lock file's real path: only
 * one process can bind a name, and the kernel releases it the instant the holder exits, even
 * on SIGKILL. A lock file with a pid would need stale-lock breaking, and two processes
 * breaking the same stale lock can both end up "holding" it; the socket has no such state.
 * Limit: processes must share a network namespace (tsbuild itself never leaves the host's).
 */
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { errnoCode } from '../content/index.js';
import { ExporterError } from './errors.js';

export interface LockOptions {
  /** Give up after this long (default 60 s). */
  readonly timeoutMs?: number;
}

/** Runs `fn` while holding the lock named by `lockPath` (its directory must exist). */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const server = await acquire(lockPath, options.timeoutMs ?? 60_000);
  try {
    return await fn();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A held lock; `release` frees it (the process exiting frees it too). */
export interface HeldLock {
  release(): Promise<void>;
}

const held = (server: Server): HeldLock => ({
  release: () => new Promise<void>((resolve) => server.close(() => resolve())),
});

/**
 * Takes the lock and keeps it until released, for locks held across long work (a RUN step).
 * Waits as long as it takes, unless `signal` aborts.
 */
export async function holdLock(lockPath: string, options: { readonly signal?: AbortSignal } = {}): Promise<HeldLock> {
  return held(await acquire(lockPath, Infinity, options.signal));
}

/** Takes the lock if it is free right now; undefined when another holder has it. */
export async function tryLock(lockPath: string): Promise<HeldLock | undefined> {
  const server = await tryOnce(await lockName(lockPath));
  return server === undefined ? undefined : held(server);
}

async function lockName(lockPath: string): Promise<string> {
  const real = join(await realpath(dirname(lockPath)), basename(lockPath));
  return `\0tsbuild-lock-${createHash('sha256').update(real).digest('hex').slice(0, 48)}`;
}

async function tryOnce(name: string): Promise<Server | undefined> {
  const server = createServer();
  const outcome = await new Promise<'held' | 'busy'>((resolve, reject) => {
    server.once('error', (e) => (errnoCode(e) === 'EADDRINUSE' ? resolve('busy') : reject(e)));
    server.listen({ path: name, exclusive: true }, () => resolve('held'));
  });
  if (outcome === 'busy') return undefined;
  server.unref(); // holding a lock must not keep the process alive by itself
  return server;
}

async function acquire(lockPath: string, timeoutMs: number, signal?: AbortSignal): Promise<Server> {
  const name = await lockName(lockPath);
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  for (;;) {
    signal?.throwIfAborted();
    const server = await tryOnce(name);
    if (server !== undefined) return server;
    if (Date.now() > deadline) throw new ExporterError('LOCKED', `timed out after ${timeoutMs} ms waiting for the lock on ${lockPath}`);
    await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    wait = Math.min(wait * 2, 100);
  }
}
