/**
 * RUN's default network: a network namespace apart from the host's, with outbound access
 * through slirp4netns, a user-space network stack (the one rootless BuildKit and Podman use).
 * The namespace has its own loopback and a tap device (10.0.2.100/24, gateway 10.0.2.2, DNS
 * forwarder 10.0.2.3); slirp4netns turns the step's connections into the host's own sockets,
 * and `--disable-host-loopback` refuses the gateway's mapping to the host's 127.0.0.1. So the
 * host's loopback services, its abstract unix sockets (they belong to a network namespace)
 * and its traffic (an AF_PACKET socket sees the namespace's interfaces only) stay out of reach.
 *
 * Made once per build and joined by each RUN (the runner's setns), not made per step: a
 * namespace is held by a small holder process (`tsbuild-runner --hold-netns`) and reached as
 * /proc/PID/ns/net, so nothing is mounted and no file is left behind. Steps that run at the
 * same time get one namespace each (a pool), so that two of them can bind the same port.
 *
 * Cleanup: close() ends both processes. A builder killed outright takes them along: the
 * holder has a parent-death signal, and slirp4netns exits when its exit fd (its stdin, a pipe
 * from the builder) reaches end of file.
 */
import type { ChildProcess } from 'node:child_process';
import { BuildError } from '../errors/index.js';
import { runnerBinaryPath } from './runner-binary.js';

/** slirp4netns's addresses in its default 10.0.2.0/24. */
export const STACK_DNS = '10.0.2.3';

const STACK = 'slirp4netns';
/** The largest MTU slirp4netns takes (its and rootlesskit's choice for throughput). */
const MTU = 65520;
const STOP_GRACE_MS = 2000;

export interface NetworkLease {
  /** The namespace to join: a /proc/PID/ns/net file. */
  readonly netns: string;
  /** The stack's DNS forwarder (isolatedResolvConf). */
  readonly dns: string;
  /** Hands the namespace back for the next step; call once the step's runner has ended. */
  release(): void;
}

/** What ops need of the build's networks (solver/ops takes this, not the class). */
export interface BuildNetworks {
  acquire(signal?: AbortSignal): Promise<NetworkLease>;
}

interface Sandbox {
  readonly holder: ChildProcess;
  readonly stack: ChildProcess;
  readonly netns: string;
}

const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

/** The isolated networks of one build: made on first use, ended by close(). */
export class NetworkPool implements BuildNetworks {
  private readonly idle: Sandbox[] = [];
  private readonly processes = new Set<ChildProcess>();
  /** A namespace being started ahead of the step that will take it (prepare()). */
  private pending: Promise<Sandbox> | undefined;
  private closed = false;

  /**
   * Starts a namespace now, for a step known to need one soon, so that its start overlaps
   * the work before that step; a failure to start is the first acquire()'s error.
   */
  prepare(): void {
    if (this.closed || this.pending !== undefined || this.idle.length > 0) return;
    const pending = this.start(undefined);
    pending.catch(() => {}); // seen by acquire() or close()
    this.pending = pending;
  }

  async acquire(signal?: AbortSignal): Promise<NetworkLease> {
    signal?.throwIfAborted();
    if (this.closed) throw new Error('internal: the build network pool is closed');
    let box: Sandbox | undefined;
    while ((box = this.idle.pop()) !== undefined && !(alive(box.holder) && alive(box.stack))) {
      this.stopBox(box);
    }
    if (box === undefined && this.pending !== undefined) {
      const pending = this.pending;
      this.pending = undefined;
      box = await pending;
      if (signal?.aborted) {
        this.idle.push(box);
        signal.throwIfAborted();
      }
    }
    box ??= await this.start(signal);
    let released = false;
    return {
      netns: box.netns,
      dns: STACK_DNS,
      release: () => {
        if (released) return;
        released = true;
        if (this.closed) return;
        this.idle.push(box);
      },
    };
  }

  /** Ends every holder and stack, and waits until they have exited. */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    // A namespace still starting sees `closed` and stops what it started.
    const pending = this.pending?.then(
      (box) => Promise.all([stop(box.stack), stop(box.holder)]),
      () => {},
    );
    this.pending = undefined;
    await Promise.all([...[...this.processes].map((p) => stop(p)), pending]);
  }

  private stopBox(box: Sandbox): void {
    void stop(box.stack);
    void stop(box.holder);
  }

  private track(p: ChildProcess): ChildProcess {
    this.processes.add(p);
    p.once('exit', () => this.processes.delete(p));
    // A child that could not start (ENOENT) reports 'error' and may never report 'exit'.
    p.once('error', () => {
      if (p.pid === undefined) this.processes.delete(p);
    });
    return p;
  }

  private async start(signal: AbortSignal | undefined): Promise<Sandbox> {
    // node:child_process only when a network is set up: loading it costs every start ~3 ms.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const holder = this.track(spawn(runnerBinaryPath(), ['--hold-netns'], { stdio: ['pipe', 'pipe', 'pipe'] }));
    try {
      await ready(holder, 'ready\n', 1, 'the network namespace holder', signal);
      if (this.closed) throw new Error('internal: the build network pool is closed');
      const netns = `/proc/${holder.pid!}/ns/net`;
      const args = [
        '--configure',
        `--mtu=${MTU}`,
        '--disable-host-loopback',
        // Its own mount namespace, capabilities and a syscall filter: it parses untrusted packets.
        '--enable-sandbox',
        '--enable-seccomp',
        '--exit-fd=0',
        '--ready-fd=3',
        String(holder.pid!),
        'tap0',
      ];
      const stack = this.track(spawn(STACK, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] }));
      try {
        await ready(stack, '1', 3, STACK, signal);
      } catch (e) {
        await stop(stack);
        throw e;
      }
      if (this.closed) {
        await stop(stack);
        throw new Error('internal: the build network pool is closed');
      }
      return { holder, stack, netns };
    } catch (e) {
      await stop(holder);
      throw e;
    }
  }
}

/**
 * Resolves once `child` wrote `text` on fd `fd`; rejects if it fails to start, exits first, or
 * the build is aborted. What it printed on stderr goes into the error.
 */
function ready(child: ChildProcess, text: string, fd: number, what: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const out = child.stdio[fd] as NodeJS.ReadableStream | null;
    let said = '';
    let errors = '';
    const done = (e?: Error) => {
      out?.removeListener('data', onData);
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (e === undefined) resolve();
      else reject(e);
    };
    const onData = (chunk: Buffer) => {
      said += chunk.toString('utf8');
      if (said.startsWith(text)) done();
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
      const how = sig !== null ? `was killed by ${sig}` : `exited with status ${code}`;
      const last = errors.trim().split('\n').slice(-3).join('; ');
      done(new BuildError('NETWORK_FAILED', `setting up RUN's network: ${what} ${how}${last === '' ? '' : `: ${last}`}`, { hint: HINT }));
    };
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' && what === STACK) {
        done(new BuildError('NETWORK_FAILED', `RUN's default network needs ${STACK}, which is not installed`, {
          hint: `install it (Debian: apt-get install ${STACK}); or give RUN no network (--network none), or the host's (--network host --allow network.host)`,
        }));
      } else {
        done(new BuildError('NETWORK_FAILED', `setting up RUN's network: starting ${what}: ${e.message}`, { hint: HINT }));
      }
    };
    const onAbort = () => done(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    child.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-2000);
    });
    out?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const HINT = 'RUN steps can also run with no network (--network none) or the host\'s (--network host --allow network.host)';

/**
 * Closes the child's stdin (both exit on its end of file) and sends SIGTERM (slirp4netns
 * notices the end of file only at its next poll timeout), then SIGKILL if it lingers;
 * resolves once it has exited.
 */
function stop(child: ChildProcess): Promise<void> {
  if (!alive(child) || child.pid === undefined) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.on('error', () => {}); // gone already: the exit event follows
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
