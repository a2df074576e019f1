// The action's logic against a real build: the inputs a workflow gives become the command
// (action/command.ts), run by the built tsbuild with only the environment the command names;
// the outputs and summary are read from what that build wrote (its metadata file, its JSON
// progress) and checked against the store (tsbuild inspect) and the files it made. Two runs with
// the same inputs and fresh state directories, sharing a local cache: the second hits every step.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommand, type BuildCommand } from '../action/command.js';
import { inputVariable, readInputs } from '../action/inputs.js';
import { outputFileText, parseMetadata, stepOutputs, type StepOutputs } from '../action/outputs.js';
import { readSteps, type Step } from '../action/steps.js';
import { summaryMarkdown } from '../action/summary.js';
import { ACTION_DOCKERFILE } from './support/action.js';
import { TSBUILD, tsbuildSync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-action-'));
const checkout = join(work, 'checkout');
const cache = join(work, 'gha-like-cache');
const SECRET = 'the-token-value-4711';


interface ActionRun {
  readonly cmd: BuildCommand;
  readonly run: Run;
  readonly steps: Step[];
  readonly outputs: StepOutputs;
  readonly metadata: Record<string, unknown> | undefined;
  readonly out: string;
}

/** One run of the action's logic, as a runner would do it: its own state directory and temp dir. */
function actionRun(name: string): ActionRun {
  const tempDir = join(work, name, 'temp');
  mkdirSync(tempDir, { recursive: true });
  const out = join(work, name, 'files');
  const env: Record<string, string> = {
    HOME: join(work, name, 'home'),
    TSBUILD_ROOT: join(work, name, 'root'),
    GREETING: 'hello from the runner',
  };
  const inputs: Record<string, string> = {
    context: checkout,
    'build-args': 'GREETING',
    secrets: `token=${SECRET}`,
    labels: 'org.opencontainers.image.title=action test',
    outputs: `type=image,name=action-test:1\ntype=local,dest=${out}`,
    'cache-from': `type=local,src=${cache}`,
    'cache-to': `type=local,dest=${cache},mode=max`,
    load: 'false',
    'no-cache': 'false',
    pull: 'false',
    push: 'false',
    summary: 'true',
    'github-token': 'ghs_unused',
  };
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v;
  const cmd = buildCommand(readInputs(env), { env, tempDir });
  // Nothing of the test's environment but PATH: the command's environment must be enough.
  const r = spawnSync(process.execPath, [TSBUILD, ...cmd.argv], { cwd: work, env: { PATH: process.env.PATH, ...cmd.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  const metadata = parseMetadata(existsSync(cmd.metadataFile) ? readFileSync(cmd.metadataFile, 'utf8') : undefined);
  const steps = readSteps(run.stderr);
  return { cmd, run, steps, outputs: stepOutputs(metadata, steps), metadata, out };
}

function inspect(root: string, name: string): { Id: string; Digest: string; config: { Labels?: Record<string, string> } } {
  const r = tsbuildSync(['inspect', '--root', root, name]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { Id: string; Digest: string; config: { Labels?: Record<string, string> } }[])[0]!;
}

describe.skipIf(!isRoot && !isCI)('the action: inputs → a real build → outputs and summary', () => {
  let first: ActionRun;
  let second: ActionRun;

  beforeAll(async () => {
    writeContext(checkout, { Dockerfile: ACTION_DOCKERFILE, 'app.txt': 'app\n' });
    await makeBusyboxRootfs(join(checkout, 'rootfs'));
    first = actionRun('run-1');
    expectOk(first.run);
    second = actionRun('run-2');
    expectOk(second.run);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds what the inputs ask: the build arg from the environment, the secret through the environment, the label', () => {
    expect(readFileSync(join(first.out, 'greeting'), 'utf8')).toBe('hello from the runner\n');
    expect(readFileSync(join(first.out, 'token.sha'), 'utf8')).toBe(`${createHash('sha256').update(SECRET).digest('hex')}\n`);
    const image = inspect(join(work, 'run-1', 'root'), 'action-test:1');
    expect(image.config.Labels).toEqual({ 'org.opencontainers.image.title': 'action test' });
    // The secret's value is in no argument and nowhere in the build's log.
    expect(first.cmd.argv.join(' ')).not.toContain(SECRET);
    expect(first.run.stderr + first.run.stdout).not.toContain(SECRET);
  });

  it('gives the outputs the store agrees with, and a first run that ran its steps', () => {
    const image = inspect(join(work, 'run-1', 'root'), 'action-test:1');
    expect(first.outputs.imageid).toBe(image.Id);
    expect(first.outputs.digest).toBe(image.Digest);
    expect(JSON.parse(first.outputs.metadata!)).toEqual(first.metadata);
    // The build's steps in the order they ran; the cache's own work beside them (the export
    // starts with the first layer it uploads, while the build runs).
    expect(first.steps.filter((s) => s.kind === 'step').map((s) => s.name)).toEqual([
      '[base 1/1] COPY rootfs/ /',
      '[stage-1 1/3] RUN echo "hello from the runner" > /greeting',
      '[stage-1 2/3] RUN --mount=type=secret,id=token,required=true sha256sum /run/secrets/token | cut -c1-64 > /token.sha',
      '[stage-1 3/3] COPY app.txt /app.txt',
    ]);
    expect(first.steps.filter((s) => s.kind === 'other').map((s) => s.name).sort()).toEqual([`exporting cache to local:${cache}`, `importing cache manifest from local:${cache}`]);
    const runStep = first.steps.find((s) => s.name.includes('RUN echo'))!;
    expect(runStep.state).toBe('done');
    expect(runStep.ms).toBeGreaterThanOrEqual(0);
    expect(first.steps.filter((s) => s.kind === 'step').every((s) => s.state === 'done')).toBe(true);
    expect(first.outputs['cache-hit-ratio']).toBe('0');
    const text = outputFileText(first.outputs);
    expect(text).toMatch(new RegExp(`^imageid<<(ghadelimiter_[0-9a-f-]+)\\n${image.Id}\\n\\1\\n`));
  });

  it('a second run on a fresh state directory hits every step from the cache: ratio 1, every step CACHED in the summary', () => {
    const steps = second.steps.filter((s) => s.kind === 'step');
    expect(steps).toHaveLength(4);
    expect(steps.every((s) => s.state === 'cached')).toBe(true);
    expect(second.outputs['cache-hit-ratio']).toBe('1');
    expect(second.outputs.imageid).toBe(first.outputs.imageid);
    const md = summaryMarkdown({ steps: second.steps, outputs: second.outputs, ...(second.metadata === undefined ? {} : { metadata: second.metadata }), pushes: second.cmd.pushes });
    expect(md).toContain('**Cache hit ratio:** 1 (4 of 4 steps cached)');
    const rows = md.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/\| CACHED \|/);
    expect(md).toContain(`- Digest: <code>${second.outputs.digest}</code>`);
  });
});
