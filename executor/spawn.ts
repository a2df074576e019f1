/**
 * Starting the runner without forking Node. child_process.spawn forks the builder: the kernel
 * copies the page tables of its whole heap and the child tears that copy down again at exec,
 * all while the event loop waits — a millisecond or more per RUN. The addon's spawn is
 * posix_spawn (vfork semantics: nothing is copied), and hands back plain pipe descriptors.
 */
import { constants } from 'node:os';
import type { Socket } from 'node:net';
import { native, type SpawnBinding } from '../native/index.js';

/** The addon, loaded once for the whole process (native/index.ts). */
function addon(): SpawnBinding {
  return native();
}

export interface Started {
  readonly pid: number;
  /** The read ends of the child's fds 1, 2 and 3. */
  readonly stdout: Socket;
  readonly stderr: Socket;
  readonly fd3: Socket;
  /** Settles once all three have closed and the child has been reaped. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, as long as the child has not been reaped (its pid cannot be anyone else's yet). */
  kill(): void;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function closed(stream: Socket): Promise<void> {
  return new Promise((resolve) => {
    stream.once('close', () => resolve());
    stream.on('error', () => {}); // a broken pipe ends the stream as its end does
  });
}

/**
 * `file` with fd 0 reading `input` and fds 1, 2 and 3 piped back, for a child that holds those
 * until it exits (the runner does): once they have all closed, the child is reaped. Throws as
 * child_process.spawn reports its 'error' (err.code ENOENT, EACCES, …).
 */
export function startWithInput(file: string, input: Uint8Array): Started {
  const native = addon();
  const { pid, fds } = native.spawn(file, Buffer.from(input.buffer, input.byteOffset, input.byteLength), 3);
  // node:net only when a process runs: loading it costs every start a few milliseconds.
  const { Socket: PipeSocket } = process.getBuiltinModule('node:net');
  const [stdout, stderr, fd3] = fds.map((fd) => new PipeSocket({ fd, readable: true, writable: false }));
  if (stdout === undefined || stderr === undefined || fd3 === undefined) throw new Error(`spawn gave ${fds.length} fds for 3 outputs`);
  let reaped = false;
  const exited = Promise.all([stdout, stderr, fd3].map(closed))
    .then(() => native.waitpid(pid))
    .then(({ code, signal }) => {
      reaped = true;
      return { code, signal: signal === null ? null : (signalNames.get(signal) ?? null) };
    });
  return {
    pid,
    stdout,
    stderr,
    fd3,
    exited,
    kill: () => {
      if (reaped) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone (ESRCH): nothing to kill
      }
    },
  };
}
