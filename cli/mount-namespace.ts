/**
 * The builder mounts overlay views of snapshots for COPY and other file steps. It does so
 * in a private mount namespace of its own, so that a builder that crashes or is killed never
 * leaves a mount on the host: the namespace, and its mounts, die with the process.
 *
 * Node cannot unshare its own mount namespace (it is multi-threaded), so the CLI starts
 * itself again under `unshare --mount --propagation private`, with a parent-death signal so
 * that killing the outer process kills the inner one too.
 */

import { handOverExtraCaCerts } from './extra-ca.js';
import { INTERRUPTED_STATUS } from './interrupt.js';

const MARK = 'TSBUILD_MOUNT_NAMESPACE';

export function inPrivateMountNamespace(env: NodeJS.ProcessEnv): boolean {
  return env[MARK] === '1';
}

/** Run this same command again inside a private mount namespace; resolves to its exit status. */
export function reexecInMountNamespace(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = process.getBuiltinModule('node:child_process').spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, ...argv],
      // NODE_EXTRA_CA_CERTS handed over, so that the command run again does not read it as it starts.
      { stdio: 'inherit', env: { ...handOverExtraCaCerts(process.env), [MARK]: '1' } },
    );
    let interrupted = false;
    const forward = (sig: NodeJS.Signals) => () => {
      if (sig !== 'SIGHUP') interrupted = true;
      child.kill(sig);
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    child.on('error', (e) => reject(new Error(`cannot start a private mount namespace (setpriv/unshare from util-linux): ${e.message}`)));
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      // An interrupted build that did not stop in time kills itself (cli/interrupt.ts): still
      // an interrupted build, exit status 130.
      if (interrupted && signal === 'SIGKILL') resolve(INTERRUPTED_STATUS);
      else resolve(code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 1)));
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[sig];
}
