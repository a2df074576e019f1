/**
 * Running the action as a runner runs it: `node FILE` (FILE as action.yml's `runs.main` will
 * name it) with the step's environment: `INPUT_*` for every input (action.yml's defaults for the
 * ones the workflow leaves out, as the runner fills them in), the file commands' files, and
 * nothing of the test's own environment but PATH.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
