/**
 * The action's entry point, run by the runner as `node` on its bundle: the inputs read, the
 * masks and the command printed, the build run (as root: directly or through sudo) with its
 * log in groups, then the step's outputs (`$GITHUB_OUTPUT`), the job summary
 * (`$GITHUB_STEP_SUMMARY`) and `docker load` of the archives asked for. The only module of
 * action/ that prints or writes files.
 *
 * Exit status 1 when anything fails, with an `::error::` annotation: a bad input names the input,
 * a failed build names its step. A stack trace only with step debugging on (RUNNER_DEBUG=1, or
 * the ACTIONS_STEP_DEBUG secret), which also runs tsbuild with --debug.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBuildError } from '../errors/index.js';
import { buildCommand } from './command.js';
import { dockerLoad } from './docker-load.js';
import { failureAnnotation } from './failure.js';
import { readInputs } from './inputs.js';
import { launchPlan } from './launch.js';
import { logPreamble } from './mask.js';
import { outputFileText, parseMetadata, stepOutputs } from './outputs.js';
import { tsbuildCommand } from './payload.js';
import { runBuild } from './run-build.js';
import { readSteps } from './steps.js';
import { summaryMarkdown } from './summary.js';
import { endGroupCommand, errorCommand, groupCommand, verbatim, warningCommand } from './workflow.js';

const write = (s: string) => void process.stdout.write(s);

const stepDebug = (env: NodeJS.ProcessEnv) => env['RUNNER_DEBUG'] === '1' || env['ACTIONS_STEP_DEBUG'] === 'true';

/** A file command's file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`), appended to as the runner expects. */
function appendTo(variable: string, env: NodeJS.ProcessEnv, text: string): void {
  const file = env[variable];
  if (file === undefined || file === '') {
    write(warningCommand(`$${variable} is not set: nothing written to it (is this a GitHub Actions runner?)`));
    return;
  }
  appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

async function run(env: NodeJS.ProcessEnv): Promise<number> {
  const debug = stepDebug(env);
  const inputs = readInputs(env);
  const tempDir = mkdtempSync(join(env['RUNNER_TEMP'] || tmpdir(), 'tsbuild-'));
  try {
    const built = buildCommand(inputs, { env, tempDir });
    const cmd = debug ? { ...built, argv: [built.argv[0]!, '--debug', ...built.argv.slice(1)] } : built;
    write(logPreamble(cmd));
    const plan = launchPlan(await tsbuildCommand(env), cmd.argv, cmd.env, { uid: process.getuid?.() ?? 0, ...(env['PATH'] === undefined ? {} : { path: env['PATH'] }) });
    if (plan.sudo) write('The action runs as a user other than root; the build runs as root through sudo -n.\n');
    const build = await runBuild(plan, write);
    const steps = readSteps(build.progress);
    const ok = build.status === 0;
    const metadata = ok && existsSync(cmd.metadataFile) ? parseMetadata(readFileSync(cmd.metadataFile, 'utf8')) : undefined;
    const outputs = stepOutputs(metadata, steps);
    // The metadata file's one key of tsbuild's own (build/outputs IMAGE_SIZE_KEY): the layers' bytes.
    const size = metadata?.['tsbuild.image.size'];
    const imageSize = typeof size === 'string' && /^\d+$/.test(size) ? { imageSize: Number(size) } : {};
    if (cmd.summary) appendTo('GITHUB_STEP_SUMMARY', env, summaryMarkdown({ steps, outputs, ...(metadata === undefined ? {} : { metadata }), ...imageSize, pushes: ok && cmd.pushes }));
    // What the CLI printed besides events (its error, whose hint may quote the build's output:
    // no command is taken from it), outside any group; then, for a failure, the annotation.
    if (build.text.length > 0) write(verbatim(build.text.join('\n'), `tsbuild-${randomUUID()}`));
    if (!ok) {
      write(failureAnnotation(build, env['GITHUB_WORKSPACE']));
      return 1;
    }
    appendTo('GITHUB_OUTPUT', env, outputFileText(outputs));
    for (const archive of cmd.loadArchives) {
      write(groupCommand(`docker load ${archive}`));
      try {
        await dockerLoad(archive, env, write);
      } finally {
        write(endGroupCommand());
      }
    }
    return 0;
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const env = process.env;
  try {
    process.exitCode = await run(env);
  } catch (e) {
    const title = isBuildError(e) && (e.code === 'USAGE' || e.code === 'NOT_SUPPORTED') ? 'tsbuild: bad input' : 'tsbuild';
    const message = e instanceof Error ? e.message : String(e);
    const hint = isBuildError(e) && e.hint !== undefined ? `\n${e.hint}` : '';
    write(errorCommand(`${message}${hint}`, { title }));
    if (stepDebug(env) && e instanceof Error && e.stack !== undefined) write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}

void main();
