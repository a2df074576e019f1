// The whole action run as the runner runs it: `node` on its entry file with the INPUT_*
// environment, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP and the runtime token of the
// loopback GitHub Actions cache service (blobs in azurite), caching with type=gha and pushing to
// a loopback registry. Two runs with fresh state directories: the second hits every step (its
// summary says CACHED for each, its cache-hit-ratio output is 1) and pushes the same image.
// Then a failing RUN (its whole output in the log, outside any group), a bad input, and load:
// true where Docker is missing.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DOCKERFILE, inputEnv, runnerFiles, logGroups, outsideGroups, readOutputFile, runAction, startAction, type ActionRun } from './support/action.js';
import { startAzurite, type Azurite } from './support/azurite.js';
import { runAsync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from './support/gha-cache.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-action-run-'));
const workspace = join(work, 'workspace');
const SECRET = 'the-secret-value-8211';
const GITHUB_TOKEN = 'ghs_the-github-token-5150';


// 250 numbered lines, then a failure: more than any tail of the output would keep.
const FAILING = ['FROM scratch', 'COPY rootfs/ /', 'RUN i=1; while [ $i -le 250 ]; do echo "output line $i"; i=$((i+1)); done; exit 7', ''].join('\n');

interface Runner {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly outputFile: string;
  readonly summaryFile: string;
}

let azurite: Azurite;
let service: GhaCacheService;
let registry: TestRegistry;
let token: string;

/** A fresh runner: its own temp dir, state directory and file-command files; `inputs` on top of action.yml's defaults. */
function runner(name: string, inputs: Record<string, string>, extra: Record<string, string> = {}): Runner {
  const { dir, outputFile, summaryFile, env: files } = runnerFiles(join(work, name), workspace);
  const env = {
    ...files,
    ACTIONS_RESULTS_URL: service.url,
    ACTIONS_RUNTIME_TOKEN: token,
    GREETING: 'hello from the workflow',
    ...inputEnv(inputs, { 'github-token': GITHUB_TOKEN }),
    ...extra,
  };
  return { dir, env, outputFile, summaryFile };
}

const ref = () => `${registry.host}/action/app:1`;

const INPUTS = (): Record<string, string> => ({
  context: '.',
  tags: ref(),
  push: 'true',
  'build-args': 'GREETING',
  secrets: `token=${SECRET}`,
  'cache-from': 'type=gha',
  'cache-to': 'type=gha,mode=max',
});

/** The manifest digest the registry serves for `name`, as skopeo reads it. */
async function registryDigest(name: string): Promise<string> {
  const r = await runAsync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`]);
  if (r.status !== 0) throw new Error(`skopeo inspect failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { Digest: string }).Digest;
}

/** Everything a run showed or wrote, but the `::add-mask::` commands (the runner takes those, and hides the values they name). */
const shown = (r: ActionRun, x: Runner) =>
  [r.stdout, r.stderr, readFileSync(x.summaryFile, 'utf8'), readFileSync(x.outputFile, 'utf8')].join('\n').split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');

describe.skipIf(!isRoot && !isCI)('the action run as the runner runs it', () => {
  let first: { run: ActionRun; x: Runner };
  let second: { run: ActionRun; x: Runner };

  beforeAll(async () => {
    azurite = await startAzurite();
    service = await startGhaCacheService(azurite);
    token = service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]);
    registry = await startRegistry(join(work, 'registry'));
    writeContext(workspace, { Dockerfile: ACTION_DOCKERFILE, 'failing.Dockerfile': FAILING, 'app.txt': 'app\n' });
    await makeBusyboxRootfs(join(workspace, 'rootfs'));
    const a = runner('run-1', INPUTS());
    first = { run: await runAction(a.env), x: a };
    const b = runner('run-2', INPUTS());
    second = { run: await runAction(b.env), x: b };
  }, 300_000);
  afterAll(async () => {
    await service?.close();
    await azurite?.stop();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the first run builds and pushes: outputs the registry agrees with, a log in groups, masks before anything else', async () => {
    const { run, x } = first;
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const outputs = readOutputFile(readFileSync(x.outputFile, 'utf8'));
    expect(Object.keys(outputs).sort()).toEqual(['cache-hit-ratio', 'digest', 'imageid', 'metadata']);
    expect(outputs.digest).toBe(await registryDigest(ref()));
    expect(outputs['cache-hit-ratio']).toBe('0');
    expect(outputs.imageid).toMatch(/^sha256:[0-9a-f]{64}$/);
    const metadata = JSON.parse(outputs.metadata!) as Record<string, unknown>;
    expect(metadata['containerimage.digest']).toBe(outputs.digest);
    expect(metadata['image.name']).toBe(ref());
    // The masks come first: the secret, the runtime token, the github-token.
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 3).sort()).toEqual([`::add-mask::${GITHUB_TOKEN}`, `::add-mask::${SECRET}`, `::add-mask::${token}`].sort());
    expect(lines[3]).toMatch(/^tsbuild build /);
    // Well-formed groups: one for a step, or the cache's work, whose group could open; a step that
    // ran while another's group was open and printed nothing is one line outside any group.
    const groups = logGroups(run.stdout);
    expect(groups).toEqual(expect.arrayContaining([expect.stringMatching(/^#\d+ \[stage-1 1\/3\] RUN echo "hello from the workflow" > \/greeting$/), expect.stringMatching(/^#\d+ exporting cache to gha:/)]));
    const steps = [...groups, ...outsideGroups(run.stdout)].filter((l) => /^#\d+ \[(base|stage-1) \d\/\d\] /.test(l));
    expect(steps).toHaveLength(4);
    const summary = readFileSync(x.summaryFile, 'utf8');
    expect(summary).toContain('**Cache hit ratio:** 0 (0 of 4 steps cached)');
    expect(summary).toContain(`### Pushed\n\n- <code>${ref()}</code>`);
    expect(summary).toContain(`- Digest: <code>${outputs.digest}</code>`);
    // The size: the pushed layers' bytes, as the registry's manifest lists them.
    const layers = (JSON.parse((await runAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref()}`])).stdout) as { layers: { size: number }[] }).layers;
    expect(metadata['tsbuild.image.size']).toBe(String(layers.reduce((n, l) => n + l.size, 0)));
    expect(summary).toMatch(/^- Size: [\d.]+ (B|KiB|MiB) \(its layers\)$/m);
  });

  it('the second run, on a fresh state directory, takes every step from the gha cache: CACHED each, ratio 1, the same image pushed', async () => {
    const { run, x } = second;
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const outputs = readOutputFile(readFileSync(x.outputFile, 'utf8'));
    expect(outputs['cache-hit-ratio']).toBe('1');
    expect(outputs.digest).toBe(readOutputFile(readFileSync(first.x.outputFile, 'utf8')).digest);
    expect(outputs.digest).toBe(await registryDigest(ref()));
    const summary = readFileSync(x.summaryFile, 'utf8');
    expect(summary).toContain('**Cache hit ratio:** 1 (4 of 4 steps cached)');
    const rows = summary.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/\| CACHED \|/);
    // Cached steps are lines of their own, outside any group.
    const outside = outsideGroups(run.stdout);
    expect(outside.filter((l) => / \[(base|stage-1) \d\/\d\] .* CACHED$/.test(l))).toHaveLength(4);
  });

  it('no secret, runtime token or github-token shows in the log, the summary or the outputs (the masks aside)', () => {
    for (const { run, x } of [first, second]) {
      const text = shown(run, x);
      for (const s of [SECRET, token, GITHUB_TOKEN]) expect(text).not.toContain(s);
    }
  });

  it('a failing RUN fails the step: exit 1, an ::error:: naming the step, its whole output (250 lines) outside any group', async () => {
    const x = runner('failing', { context: '.', file: 'failing.Dockerfile' });
    const run = await runAction(x.env);
    expect(run.status).toBe(1);
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error '));
    expect(error).toBe(
      '::error title=tsbuild%3A the build failed,file=failing.Dockerfile,line=3,col=1::[2/2] RUN i=1; while [ $i -le 250 ]; do echo "output line $i"; i=$((i+1)); done; exit 7: process "/bin/sh -c i=1; while [ $i -le 250 ]; do echo "output line $i"; i=$((i+1)); done; exit 7" did not complete successfully: exit code: 7',
    );
    const outside = outsideGroups(run.stdout);
    const header = outside.findIndex((l) => /^#\d+ its whole output \(250 lines\):$/.test(l));
    expect(header).toBeGreaterThan(0);
    const n = outside[header]!.split(' ')[0]!;
    expect(outside.slice(header + 1, header + 251)).toEqual(Array.from({ length: 250 }, (_, i) => `${n} output line ${i + 1}`));
    // The CLI's error after it, taken as text only (its hint quotes the output).
    expect(run.stdout).toMatch(/\n::stop-commands::(tsbuild-[0-9a-f-]+)\nerror: failing\.Dockerfile:3:1: [^\n]*\n(?:.*\n)*?::\1::\n::error /);
    expect(readFileSync(x.outputFile, 'utf8')).toBe('');
    expect(readFileSync(x.summaryFile, 'utf8')).toMatch(/\| ERROR after [\d.]+s \|/);
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });

  it('no stack trace unless step debugging is on; with RUNNER_DEBUG=1 tsbuild runs with --debug and its trace is in the log', async () => {
    const x = runner('debug', { context: '.', file: 'failing.Dockerfile' }, { RUNNER_DEBUG: '1' });
    const run = await runAction(x.env);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^tsbuild build --debug --file failing\.Dockerfile /m);
    expect(run.stdout).toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  });

  it('cancelled (SIGINT, as the runner cancels a job): the build is interrupted, the step fails saying so, no process of it lives on', async () => {
    writeContext(join(workspace, 'slow'), { Dockerfile: ['FROM scratch', 'COPY rootfs/ /', 'RUN echo started; sleep 127', ''].join('\n') });
    const x = runner('cancel', { context: '.', file: 'slow/Dockerfile' });
    const action = startAction(x.env);
    while (!/^#\d+ started$/m.test(action.stdout())) {
      if (action.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    action.child.kill('SIGINT');
    const run = await action.done;
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^#\d+ started$/m);
    expect(run.stdout).toContain('error: the build was interrupted (SIGINT)');
    expect(run.stdout).toMatch(/^::error title=tsbuild%3A the build failed.*interrupted/m);
    // Neither the CLI (its environment names this run's state directory) nor the RUN's process lives on.
    const alive = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8') === ['sleep', '127', ''].join('\0') || readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`TSBUILD_ROOT=${x.env.TSBUILD_ROOT}`);
        } catch {
          return false; // gone meanwhile
        }
      });
    expect(alive).toEqual([]);
  }, 60_000);

  it('a bad input fails the step with an ::error:: naming it, before any build', async () => {
    const x = runner('bad-input', { context: '.', push: 'maybe' });
    const run = await runAction(x.env);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('::error title=tsbuild%3A bad input::input "push" is not a boolean: "maybe"%0Awrite true, True, TRUE, false, False or FALSE\n');
    expect(existsSync(join(x.dir, 'root'))).toBe(false);
  });

  it('load: true where Docker is missing: the image is built, then one clear error; summary: false writes none', async () => {
    // PATH with each directory that holds docker replaced by a copy of it (symbolic links) without it.
    const path = (process.env.PATH ?? '').split(delimiter).map((d, i) => {
      if (!existsSync(join(d, 'docker'))) return d;
      const shadow = join(work, 'no-docker', String(i));
      mkdirSync(shadow, { recursive: true });
      for (const f of readdirSync(d)) if (f !== 'docker') symlinkSync(join(d, f), join(shadow, f));
      return shadow;
    });
    const x = runner('load', { ...INPUTS(), push: 'false', load: 'true', 'cache-to': '', summary: 'false' }, { PATH: path.join(delimiter) });
    const run = await runAction(x.env);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('::error title=tsbuild::load: docker is not installed on this runner%0Ainstall Docker on the runner, or drop load: true');
    // The build ran (from the cache) and its outputs were set before the load.
    expect(readOutputFile(readFileSync(x.outputFile, 'utf8'))['cache-hit-ratio']).toBe('1');
    // What is left is the native parts, compiled once per job for the steps after this one.
    expect(readdirSync(x.env.RUNNER_TEMP!).filter((f) => !f.startsWith('tsbuild-native-'))).toEqual([]);
    // summary: false writes no job summary.
    expect(readFileSync(x.summaryFile, 'utf8')).toBe('');
  });
});
