/**
 * SIGINT and SIGTERM while a build runs. The first aborts the build: each part stops at its
 * next check (a RUN is killed, a file hash or a lock wait stops), undoes its mounts and temp
 * files, and the build ends with exit status 130, as buildx ends a canceled build (for
 * SIGTERM too). A process that has not ended `graceMs` later is killed: its mounts go with
 * its private mount namespace, its RUN processes with it (they die with their parent), its
 * lease and locks go stale, and `cleanupNow` removes what it was writing at the user's paths.
 * A repeated signal changes nothing: a terminal's Ctrl-C reaches this process twice (directly
 * and forwarded by the outer process of cli/mount-namespace.ts).
 */
import { BuildError } from '../errors/index.js';

/** How long an interrupted build has to stop by itself. */
export const GRACE_MS = 2000;
/** The exit status of an interrupted build: 128 + SIGINT, as buildx exits on a canceled build. */
export const INTERRUPTED_STATUS = 130;

export interface Interrupts {
  /** Aborted, with an INTERRUPTED BuildError as its reason, at the first signal. */
  readonly signal: AbortSignal;
  /** Stops listening once the build has ended either way (a pending deadline stays armed). */
  dispose(): void;
}

export interface InterruptOptions {
  /** Synchronous: what must not stay behind when the process ends now. */
  readonly cleanupNow: () => void;
  /** Prints a line on standard error. */
  readonly say: (text: string) => void;
  readonly graceMs?: number;
}

export function handleInterrupts(opts: InterruptOptions): Interrupts {
  const ac = new AbortController();
  const graceMs = opts.graceMs ?? GRACE_MS;
  let ended = false;
  const exitNow = (sig: NodeJS.Signals): void => {
    try {
      opts.cleanupNow();
    } catch {
      // Exiting anyway: the deadline is the promise made to the user.
    }
    if (!ended) opts.say(`error: the build was interrupted (${sig}) and did not stop within ${graceMs / 1000}s: stopped now\n`);
    // Not process.exit: at exit libuv waits for the file operations still in its thread pool
    // (a copy of gigabytes would hold the exit for as long). The outer process reports this
    // death as an interrupted build (exit status 130).
    process.kill(process.pid, 'SIGKILL');
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) return;
    ac.abort(new BuildError('INTERRUPTED', `the build was interrupted (${sig})`));
    // Unreferenced: a build that ends in time exits without waiting for it.
    setTimeout(() => exitNow(sig), graceMs).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      ended = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
