/**
 * Runs one process spec through the native runner: the spec goes in on stdin, the command's
 * output comes back on stdout/stderr, and the runner's own outcome on fd 3, so that nothing
 * the command prints can pass for a runner message.
 */
import type { Readable } from 'node:stream';

import { BuildError, isBuildError } from '../errors/index.js';
import { runnerBinaryPath } from './runner-binary.js';
import type { RunnerOutcome, RunnerSpec } from './spec.js';
import { startWithInput, type Started } from './spawn.js';

export interface RunIO {
  /** The command's output, chunk by chunk, in order; dropped when not given. */
  readonly stdout?: (chunk: Uint8Array) => void;
  readonly stderr?: (chunk: Uint8Array) => void;
  /** Aborting kills the runner; its PID namespace and every process in it die with it. */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  /** The command's exit status; 128 + n when a signal n ended it. */
  readonly exitCode: number;
}

function parseOutcome(text: string): RunnerOutcome | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.exit === 'number' && Number.isInteger(record.exit)) return { exit: record.exit };
  if (typeof record.error === 'string') return { error: record.error };
  return undefined;
}

function collect(stream: Readable, sink: ((chunk: Uint8Array) => void) | undefined): void {
  // Read even without a sink: a full pipe would stop the command.
  stream.on('data', (chunk: Buffer) => sink?.(chunk));
}

export async function runProcess(spec: RunnerSpec, io: RunIO = {}): Promise<RunResult> {
  const { signal } = io;
  signal?.throwIfAborted();
  const binary = runnerBinaryPath();

  let child: Started;
  try {
    child = startWithInput(binary, Buffer.from(JSON.stringify(spec)));
  } catch (e) {
    if (isBuildError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      throw new BuildError('RUNNER_ERROR', `the native runner is not built (no ${binary}): run npm ci`, {}, { cause: e });
    }
    throw new BuildError('RUNNER_ERROR', `starting the native runner ${binary}: ${String(e)}`, {}, { cause: e });
  }
  const kill = (): void => child.kill();
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const outcomeChunks: Buffer[] = [];
    child.fd3.on('data', (chunk: Buffer) => outcomeChunks.push(chunk));
    collect(child.stdout, io.stdout);
    collect(child.stderr, io.stderr);
    const ended = await child.exited.catch((e: unknown) => {
      throw new BuildError('RUNNER_ERROR', `waiting for the native runner ${binary}: ${String(e)}`, {}, { cause: e });
    });

    signal?.throwIfAborted();
    const text = Buffer.concat(outcomeChunks).toString('utf8').trim();
    const outcome = parseOutcome(text);
    if (outcome === undefined) {
      const how = ended.signal !== null ? `was killed by ${ended.signal}` : `exited with status ${ended.code}`;
      const said = text === '' ? 'without reporting an outcome' : `reporting ${JSON.stringify(text.slice(0, 200))}`;
      throw new BuildError('RUNNER_ERROR', `the native runner ${how} ${said}`);
    }
    if ('error' in outcome) throw new BuildError('RUNNER_ERROR', outcome.error);
    return { exitCode: outcome.exit };
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}
