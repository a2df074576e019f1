/**
 * Runs the build as launch.ts planned it and renders its log as it comes: its standard error
 * (the JSON progress, then any error the CLI printed) line by line through log.ts, its standard
 * output passed on. Interrupts the action gets (the runner cancelling the job) are passed on.
 */
import { spawn } from 'node:child_process';
import { BuildError } from '../errors/index.js';
import { needsRootError, sudoRefusal, type Launch } from './launch.js';
import { logRenderer, type LogResult } from './log.js';

export interface BuildRun extends LogResult {
  /** The exit status (a signal's death counts as 1). */
  readonly status: number;
  /** The whole JSON progress (the steps for the outputs and the summary are read from it). */
  readonly progress: string;
}

export function runBuild(plan: Launch, write: (s: string) => void): Promise<BuildRun> {
  const log = logRenderer(write);
  let progress = '';
  let partial = '';
  const take = (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      progress += `${l}\n`;
      log.line(l);
    }
  };
  return new Promise((resolve, reject) => {
    const child = spawn(plan.file, [...plan.args], { env: { ...plan.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const stop = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => write(d));
    child.stderr.setEncoding('utf8').on('data', take);
    child.once('error', (e: NodeJS.ErrnoException) => {
      stop();
      if (e.code === 'ENOENT' && plan.sudo) reject(needsRootError('the action runs as a user other than root and sudo is not installed'));
      else reject(new BuildError('IO', `tsbuild could not be started (${plan.file}): ${e.message}`));
    });
    child.once('close', (code) => {
      stop();
      if (partial !== '') take('\n');
      const result = log.finish();
      const status = code ?? 1;
      const refusal = plan.sudo && !result.events && status !== 0 ? sudoRefusal(result.text) : undefined;
      if (refusal !== undefined) return reject(needsRootError(`sudo -n refused to run it: ${refusal}`));
      resolve({ ...result, status, progress });
    });
  });
}
