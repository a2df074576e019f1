/**
 * The action's inputs turned into one `tsbuild build` command: its arguments, the whole
 * environment it gets (the build runs through sudo, so nothing else reaches it), the values to
 * mask, and the files the action reads afterwards. Each input maps to a flag of `tsbuild build`
 * with build-push-action's meaning, or fails as "not supported yet" by name; none is dropped.
 *
 * Three meanings differ from build-push-action's, by necessity:
 * - `context` defaults to `.` (the workspace, where actions/checkout puts the repository), not to
 *   the git context of the commit: tsbuild reads directories only, and a git context is refused.
 * - `github-token` authenticates git contexts there; with no git context it has nothing to do
 *   here, so it is only masked. `type=gha` caches use the runner's `ACTIONS_RUNTIME_TOKEN`.
 * - `provenance` and `sbom` left empty add no attestation (buildx would add a provenance one);
 *   `false` is accepted, anything else is not supported yet.
 */
import { join } from 'node:path';
import { BuildError } from '../errors/index.js';
import { csvFields } from '../build/index.js';
import { parseAnnotation } from './annotations.js';
import { asBoolean, type ActionInputs, type InputEnv } from './inputs.js';

/** What the runner provides besides the inputs. */
export interface RunnerFacts {
  /** The action's own environment. */
  readonly env: InputEnv;
  /** A directory of this run's own (under `$RUNNER_TEMP`) for the files the build writes for the action. */
  readonly tempDir: string;
}

export interface BuildCommand {
  /** The arguments of `tsbuild`: `build`, the flags, the context last. */
  readonly argv: readonly string[];
  /** Everything the build's environment holds. */
  readonly env: Readonly<Record<string, string>>;
  /** Values never to show in the log: registered for masking before anything is printed. */
  readonly secrets: readonly string[];
  /** Where the build writes its metadata (`--metadata-file`): the source of the step's outputs. */
  readonly metadataFile: string;
  /**
   * Docker archives the build writes for `docker load` afterwards: `load: true`, and a
   * `type=docker` output without `dest` (buildx loads both into the docker daemon).
   */
  readonly loadArchives: readonly string[];
  /** Whether the image goes to a registry (the summary lists the pushed names then). */
  readonly pushes: boolean;
  /** Whether to write the job summary. */
  readonly summary: boolean;
}

const notSupported = (input: string, why: string, hint?: string) =>
  new BuildError('NOT_SUPPORTED', `not supported yet: ${input} (${why})`, hint === undefined ? {} : { hint });

const usage = (input: string, why: string, hint?: string) => new BuildError('USAGE', `input "${input}": ${why}`, hint === undefined ? {} : { hint });

/** Inputs of build-push-action that tsbuild has no counterpart for: refused when given. */
const UNSUPPORTED: readonly { readonly input: 'add-hosts' | 'attests' | 'builder' | 'cgroup-parent' | 'shm-size' | 'ulimit'; readonly why: string; readonly hint?: string }[] = [
  { input: 'add-hosts', why: 'tsbuild has no --add-host' },
  { input: 'attests', why: 'tsbuild writes no attestations' },
  { input: 'builder', why: 'tsbuild builds in the step itself, with no builder instance', hint: 'drop the input (and the setup-buildx step)' },
  { input: 'cgroup-parent', why: 'tsbuild has no --cgroup-parent' },
  { input: 'shm-size', why: 'tsbuild has no --shm-size' },
  { input: 'ulimit', why: 'tsbuild has no --ulimit' },
];

const TEMPLATE = /\{\{/;
const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i;

/** `KEY=VALUE` as build-push-action splits a secret item; the error names the item, never its value. */
function secretPair(input: string, item: string, n: number): [string, string] {
  const eq = item.indexOf('=');
  const key = eq < 0 ? '' : item.slice(0, eq);
  const value = eq < 0 ? '' : item.slice(eq + 1);
  if (key === '' || value === '') throw usage(input, `item ${n + 1} is not a valid secret`, 'write ID=VALUE, one a line');
  return [key, value];
}

/** An output or cache spec's `key=value` fields (a bare value has none). */
function fieldsOf(spec: string): Map<string, string> {
  const out = new Map<string, string>();
  let fields: string[];
  try {
    fields = csvFields(spec);
  } catch {
    return out; // tsbuild refuses it with its own message
  }
  for (const f of fields) {
    const eq = f.indexOf('=');
    if (eq > 0) out.set(f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1));
  }
  return out;
}

function contextOf(context: string): string {
  if (TEMPLATE.test(context)) throw notSupported('context', 'the git context ({{defaultContext}})', 'check the repository out and give a directory');
  if (context === '-') throw notSupported('context', 'a context from standard input');
  if (REMOTE.test(context)) throw notSupported('context', `a remote context: ${context}`, 'check it out or download it, then give the directory');
  return context === '' ? '.' : context;
}

/** Whether an attestation input asks for one: empty or a false boolean asks for none. */
const attests = (value: string) => value !== '' && asBoolean(value) !== false;

export function buildCommand(inputs: ActionInputs, runner: RunnerFacts): BuildCommand {
  const { env } = runner;
  for (const u of UNSUPPORTED) if (inputs[u.input].length > 0) throw notSupported(u.input, u.why, u.hint);
  if (attests(inputs.provenance)) throw notSupported('provenance', 'tsbuild writes no attestations', 'drop the input or set it to false');
  if (attests(inputs.sbom)) throw notSupported('sbom', 'tsbuild writes no attestations', 'drop the input or set it to false');
  if (inputs.call !== '' && inputs.call !== 'build') throw notSupported('call', `call: ${inputs.call}; tsbuild only builds`);
  const annotations = inputs.annotations.map(parseAnnotation);
  if (annotations.length > 0) {
    const a = annotations[0]!;
    throw notSupported('annotations', `tsbuild writes no annotations yet; the first is ${a.level}${a.platform === undefined ? '' : `[${a.platform}]`}:${a.key}`, 'drop the input (labels are written)');
  }
  if (inputs.platforms.length > 1) throw notSupported('platforms', `one platform per build; given ${inputs.platforms.join(',')}`, 'use a matrix job per platform');
  const context = contextOf(inputs.context);

  const argv: string[] = ['build'];
  const buildEnv: Record<string, string> = {};
  const secrets: string[] = [];
  const pass = (name: string) => {
    const v = env[name];
    if (v !== undefined) buildEnv[name] = v;
  };
  const many = (flag: string, values: readonly string[]) => {
    for (const v of values) argv.push(flag, v);
  };

  many('--allow', inputs.allow);
  many('--build-arg', inputs['build-args']);
  // `--build-arg K` takes K's value from the environment, as buildx does: the build needs it.
  for (const a of inputs['build-args']) if (!a.includes('=')) pass(a);
  for (const c of inputs['build-contexts']) {
    if (TEMPLATE.test(c)) throw notSupported('build-contexts', 'the git context ({{defaultContext}})', 'give a directory or docker-image://REF');
  }
  many('--build-context', inputs['build-contexts']);
  many('--cache-from', inputs['cache-from']);
  many('--cache-to', inputs['cache-to']);
  const caches = [...inputs['cache-from'], ...inputs['cache-to']].map(fieldsOf);
  for (const c of caches) {
    const token = c.get('token');
    if (token !== undefined && token !== '') secrets.push(token);
  }
  const gha = caches.filter((c) => c.get('type') === 'gha');
  // What the gha backend reads where a spec does not say url= or token=.
  if (gha.some((c) => !c.has('token'))) pass('ACTIONS_RUNTIME_TOKEN');
  if (gha.some((c) => !c.has('url'))) pass('ACTIONS_RESULTS_URL');
  if (gha.length > 0) pass('ACTIONS_CACHE_MODE');
  inputs.secrets.forEach((item, n) => {
    const [id, value] = secretPair('secrets', item, n);
    // Through the environment rather than a file: the value never touches the disk.
    const variable = `TSBUILD_SECRET_${n}`;
    buildEnv[variable] = value;
    secrets.push(value);
    argv.push('--secret', `id=${id},env=${variable}`);
  });
  inputs['secret-envs'].forEach((item, n) => {
    const [id, variable] = secretPair('secret-envs', item, n);
    pass(variable);
    const value = env[variable];
    if (value !== undefined && value !== '') secrets.push(value);
    argv.push('--secret', `id=${id},env=${variable}`);
  });
  inputs['secret-files'].forEach((item, n) => {
    const [id, file] = secretPair('secret-files', item, n);
    argv.push('--secret', `id=${id},src=${file}`);
  });
  if (inputs.file !== '') argv.push('--file', inputs.file);
  many('--label', inputs.labels);
  many('--no-cache-filter', inputs['no-cache-filters']);
  // buildx reads a docker output without dest (and --load) into the docker daemon: here an
  // archive of the run's own, for docker load once the build is done.
  const loadArchives: string[] = [];
  const archive = () => {
    const path = join(runner.tempDir, `load-${loadArchives.length + 1}.tar`);
    loadArchives.push(path);
    return path;
  };
  for (const o of inputs.outputs) {
    const f = fieldsOf(o);
    argv.push('--output', f.get('type') === 'docker' && !f.has('dest') ? `${o},dest=${archive()}` : o);
  }
  if (inputs.load) argv.push('--output', `type=docker,dest=${archive()}`);
  if (inputs.platforms.length === 1) argv.push('--platform', inputs.platforms[0]!);
  many('--ssh', inputs.ssh);
  if (inputs.ssh.length > 0) pass('SSH_AUTH_SOCK');
  many('--tag', inputs.tags);
  if (inputs.target !== '') argv.push('--target', inputs.target);
  const metadataFile = join(runner.tempDir, 'metadata.json');
  argv.push('--metadata-file', metadataFile);
  if (inputs.network !== '') argv.push('--network', inputs.network);
  if (inputs['no-cache']) argv.push('--no-cache');
  if (inputs.pull) argv.push('--pull');
  if (inputs.push) argv.push('--push');
  // JSON progress: the action renders the log and reads the steps for the summary from it.
  argv.push('--progress', 'json');
  argv.push(context);

  // Registry credentials where docker/login-action left them, whoever the build runs as.
  const dockerConfig = env['DOCKER_CONFIG'] !== undefined && env['DOCKER_CONFIG'] !== '' ? env['DOCKER_CONFIG'] : env['HOME'] === undefined ? undefined : join(env['HOME'], '.docker');
  if (dockerConfig !== undefined) buildEnv['DOCKER_CONFIG'] = dockerConfig;
  pass('TSBUILD_ROOT');
  const runtimeToken = env['ACTIONS_RUNTIME_TOKEN'];
  if (runtimeToken !== undefined && runtimeToken !== '') secrets.push(runtimeToken);
  if (inputs['github-token'] !== '') secrets.push(inputs['github-token']);

  const pushes = inputs.push || inputs.outputs.map(fieldsOf).some((o) => o.get('type') === 'registry' || o.get('push') === 'true');
  return {
    argv,
    env: buildEnv,
    secrets: [...new Set(secrets)],
    metadataFile,
    loadArchives,
    pushes,
    summary: inputs.summary,
  };
}
