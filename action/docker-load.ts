/** `docker load` of each archive the build wrote for it (`load: true`, a `type=docker` output without `dest`). */
import { spawn } from 'node:child_process';
import { BuildError } from '../errors/index.js';

/** Loads `archive` into the runner's Docker, its output passed to `write`; fails with Docker's words. */
export function dockerLoad(archive: string, env: NodeJS.ProcessEnv, write: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['load', '--input', archive], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (d: Buffer) => write(d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      write(d.toString());
    });
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new BuildError('IO', 'load: docker is not installed on this runner', { hint: 'install Docker on the runner, or drop load: true (and type=docker outputs without dest)' })
          : new BuildError('IO', `load: docker could not be started: ${e.message}`),
      ),
    );
    child.once('close', (status) => {
      if (status === 0) resolve();
      else reject(new BuildError('IO', `load: docker load of ${archive} failed (exit status ${status}): ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
}
