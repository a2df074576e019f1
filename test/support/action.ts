/**
 * Running the action as a runner runs it: `node FILE` (FILE as action.yml's `runs.main` will
 * name it) with the step's environment: `INPUT_*` for every input (action.yml's defaults for the
 * ones the workflow leaves out, as the runner fills them in), the file commands' files, and
 * nothing of the test's own environment but PATH.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { inputVariable } from '../../action/inputs.js';
import { repoRoot } from '../shared.js';

/** The action's entry point as action.yml's `runs.main` names it: the payload's bundle, which `npm run build` makes. */
export function actionEntryFile(): string {
  return join(repoRoot, 'action-dist', 'main.cjs');
}

/**
 * The `INPUT_*` variables of a step giving `inputs`: each declared input's default where the
 * step gives none (an expression default, `${{ … }}`, is the runner's to evaluate: `expressions`
 * holds its value).
 */
export function inputEnv(inputs: Readonly<Record<string, string>>, expressions: Readonly<Record<string, string>> = {}): Record<string, string> {
  const declared = (parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> }).inputs;
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const d = spec.default;
    if (d === undefined) continue;
    const value = d.includes('${{') ? expressions[name] : d;
    if (value !== undefined) env[inputVariable(name)] = value;
  }
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value;
  return env;
}

export interface ActionRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node <entry>` with exactly `env`; `prefix` runs it through another command (setpriv, to be another user). */
export function runAction(env: Readonly<Record<string, string>>, prefix: readonly string[] = []): Promise<ActionRun> {
  return startAction(env, prefix).done;
}

/** runAction, with the process to signal (the runner cancelling the job) and its output so far. */
export function startAction(env: Readonly<Record<string, string>>, prefix: readonly string[] = []): { child: ChildProcess; stdout: () => string; done: Promise<ActionRun> } {
  const [file, ...args] = [...prefix, process.execPath, actionEntryFile()];
  const child = spawn(file!, args, { env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: env['GITHUB_WORKSPACE'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<ActionRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, stdout: () => stdout, done };
}

/** The outputs a `$GITHUB_OUTPUT` file sets (`NAME<<DELIMITER` … `DELIMITER`, or `NAME=VALUE`), as the runner reads it. */
export function readOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc !== null) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`output ${heredoc[1]}: no closing delimiter`);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else {
      const eq = line.indexOf('=');
      if (eq < 0) throw new Error(`not an output line: ${line}`);
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/** The log's groups, checked well formed (none inside another, each closed): their titles. */
export function logGroups(log: string): string[] {
  const titles: string[] = [];
  let open = false;
  for (const l of log.split('\n')) {
    if (l.startsWith('::group::')) {
      if (open) throw new Error(`a group opens inside another: ${l}`);
      open = true;
      titles.push(l.slice('::group::'.length));
    } else if (l === '::endgroup::') {
      if (!open) throw new Error('a group ends that was not open');
      open = false;
    }
  }
  if (open) throw new Error('a group is left open');
  return titles;
}

/** The lines of a log outside any group. */
export function outsideGroups(log: string): string[] {
  const out: string[] = [];
  let open = false;
  for (const l of log.split('\n')) {
    if (l.startsWith('::group::')) open = true;
    else if (l === '::endgroup::') open = false;
    else if (!open) out.push(l);
  }
  return out;
}

/**
 * The workflow's Dockerfile in the action's tests: a base from the checkout's rootfs, a build
 * argument, a required secret, a copied file.
 */
export const ACTION_DOCKERFILE = [
  'FROM scratch AS base',
  'COPY rootfs/ /',
  'FROM base',
  'ARG GREETING',
  'RUN echo "$GREETING" > /greeting',
  'RUN --mount=type=secret,id=token,required=true sha256sum /run/secrets/token | cut -c1-64 > /token.sha',
  'COPY app.txt /app.txt',
  '',
].join('\n');

/** A runner's own directories and file-command files under `dir`, and the part of a step's environment that names them. */
export interface RunnerFiles {
  readonly dir: string;
  readonly outputFile: string;
  readonly summaryFile: string;
  /** PATH, HOME, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE and the state directory (TSBUILD_ROOT). */
  readonly env: Record<string, string>;
}

export function runnerFiles(dir: string, workspace: string): RunnerFiles {
  for (const d of ['home', 'temp']) mkdirSync(join(dir, d), { recursive: true });
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    RUNNER_TEMP: join(dir, 'temp'),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: workspace,
    TSBUILD_ROOT: join(dir, 'root'),
  };
  return { dir, outputFile, summaryFile, env };
}
