import { describe, expect, it } from 'vitest';
import { isBuildError } from '../errors/index.js';
import { parseArgs } from '../cli/args.js';
import { BUILD_FLAGS } from '../cli/build.js';
import { buildCommand, type BuildCommand } from './command.js';
import { INPUT_NAMES, inputVariable, readInputs } from './inputs.js';

const TEMP = '/home/runner/work/_temp/tsbuild-1';
const META = `${TEMP}/metadata.json`;

/** What the runner sets for an action whose workflow step says nothing: the declared defaults. */
const DEFAULTS: Record<string, string> = {
  INPUT_LOAD: 'false',
  'INPUT_NO-CACHE': 'false',
  INPUT_PULL: 'false',
  INPUT_PUSH: 'false',
  INPUT_SUMMARY: 'true',
  'INPUT_GITHUB-TOKEN': 'ghs_defaulttoken',
};

/** The action's own environment besides its inputs. */
const RUNNER: Record<string, string> = {
  HOME: '/home/runner',
  PATH: '/usr/bin:/bin',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token-value',
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/',
  MY_SECRET: 's3cret-from-env',
  BEE: 'bee-value',
  SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
};

interface Row {
  /** The input the row is about. */
  readonly input: string;
  readonly with: Record<string, string>;
  /** Flags before --metadata-file. */
  readonly argv?: readonly string[];
  /** Flags after it (network, no-cache, pull, push, as build-push-action orders them). */
  readonly after?: readonly string[];
  readonly context?: string;
  /** Variables the build's environment holds (besides DOCKER_CONFIG). */
  readonly env?: Record<string, string>;
  readonly secrets?: readonly string[];
  readonly check?: (cmd: BuildCommand) => void;
  /** The error: its code and the start of its message. */
  readonly error?: readonly [string, string];
}

const ROWS: readonly Row[] = [
  { input: 'add-hosts', with: { 'add-hosts': 'db:10.0.0.5' }, error: ['NOT_SUPPORTED', 'not supported yet: add-hosts (tsbuild has no --add-host)'] },
  { input: 'allow', with: { allow: 'network.host,security.insecure' }, argv: ['--allow', 'network.host', '--allow', 'security.insecure'] },
  {
    input: 'annotations',
    with: { annotations: 'manifest:org.opencontainers.image.title=app\nindex:org.opencontainers.image.title=app' },
    error: ['NOT_SUPPORTED', 'not supported yet: annotations (tsbuild writes no annotations yet; the first is manifest:org.opencontainers.image.title)'],
  },
  { input: 'annotations', with: { annotations: 'foo:k=v' }, error: ['USAGE', 'input "annotations": invalid annotation "foo:k=v": unknown level "foo"'] },
  { input: 'attests', with: { attests: 'type=sbom' }, error: ['NOT_SUPPORTED', 'not supported yet: attests'] },
  { input: 'build-args', with: { 'build-args': 'A=1,2\nBEE\nUNSET' }, argv: ['--build-arg', 'A=1,2', '--build-arg', 'BEE', '--build-arg', 'UNSET'], env: { BEE: 'bee-value' } },
  {
    input: 'build-contexts',
    with: { 'build-contexts': 'base=docker-image://alpine:3.20\nsrc=./src' },
    argv: ['--build-context', 'base=docker-image://alpine:3.20', '--build-context', 'src=./src'],
  },
  { input: 'build-contexts', with: { 'build-contexts': 'src={{defaultContext}}:src' }, error: ['NOT_SUPPORTED', 'not supported yet: build-contexts (the git context'] },
  { input: 'builder', with: { builder: 'builder-1234' }, error: ['NOT_SUPPORTED', 'not supported yet: builder'] },
  {
    input: 'cache-from',
    with: { 'cache-from': 'type=gha\nuser/app:cache' },
    argv: ['--cache-from', 'type=gha', '--cache-from', 'user/app:cache'],
    env: { ACTIONS_RUNTIME_TOKEN: 'runtime-token-value', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' },
  },
  {
    input: 'cache-from',
    with: { 'cache-from': 'type=gha,url=http://127.0.0.1:8/,token=own-token' },
    argv: ['--cache-from', 'type=gha,url=http://127.0.0.1:8/,token=own-token'],
    secrets: ['own-token', 'runtime-token-value'],
  },
  {
    input: 'cache-to',
    with: { 'cache-to': 'type=gha,mode=max,scope=app' },
    argv: ['--cache-to', 'type=gha,mode=max,scope=app'],
    env: { ACTIONS_RUNTIME_TOKEN: 'runtime-token-value', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' },
  },
  {
    input: 'cache-to',
    with: { 'cache-to': 'type=registry,ref=ghcr.io/me/app:cache,mode=max' },
    argv: ['--cache-to', 'type=registry,ref=ghcr.io/me/app:cache,mode=max'],
    check: (cmd) => expect(cmd.env['ACTIONS_RUNTIME_TOKEN']).toBeUndefined(),
  },
  { input: 'call', with: { call: 'check' }, error: ['NOT_SUPPORTED', 'not supported yet: call (call: check; tsbuild only builds)'] },
  { input: 'call', with: { call: 'build' }, argv: [] },
  { input: 'cgroup-parent', with: { 'cgroup-parent': '/actions' }, error: ['NOT_SUPPORTED', 'not supported yet: cgroup-parent'] },
  { input: 'context', with: { context: 'app' }, argv: [], context: 'app' },
  { input: 'context', with: {}, argv: [], context: '.' },
  { input: 'context', with: { context: 'https://github.com/me/app.git#main' }, error: ['NOT_SUPPORTED', 'not supported yet: context (a remote context'] },
  { input: 'context', with: { context: '{{defaultContext}}:app' }, error: ['NOT_SUPPORTED', 'not supported yet: context (the git context'] },
  { input: 'context', with: { context: '-' }, error: ['NOT_SUPPORTED', 'not supported yet: context (a context from standard input)'] },
  { input: 'file', with: { file: 'docker/app.Dockerfile' }, argv: ['--file', 'docker/app.Dockerfile'] },
  // Its default is always set: it is masked and passed to nothing (no git context).
  { input: 'github-token', with: {}, argv: [], secrets: ['ghs_defaulttoken', 'runtime-token-value'] },
  { input: 'labels', with: { labels: 'org.opencontainers.image.description=An app, small\nteam=core' }, argv: ['--label', 'org.opencontainers.image.description=An app, small', '--label', 'team=core'] },
  {
    input: 'load',
    with: { load: 'true' },
    argv: ['--output', `type=docker,dest=${TEMP}/load-1.tar`],
    check: (cmd) => expect(cmd.loadArchives).toEqual([`${TEMP}/load-1.tar`]),
  },
  { input: 'load', with: {}, argv: [], check: (cmd) => expect(cmd.loadArchives).toEqual([]) },
  { input: 'network', with: { network: 'host' }, argv: [], after: ['--network', 'host'] },
  { input: 'no-cache', with: { 'no-cache': 'true' }, argv: [], after: ['--no-cache'] },
  { input: 'no-cache-filters', with: { 'no-cache-filters': 'deps,test' }, argv: ['--no-cache-filter', 'deps', '--no-cache-filter', 'test'] },
  {
    input: 'outputs',
    with: { outputs: 'type=oci,dest=/tmp/out/app.tar\ntype=registry,name=ghcr.io/me/app:1' },
    argv: ['--output', 'type=oci,dest=/tmp/out/app.tar', '--output', 'type=registry,name=ghcr.io/me/app:1'],
    check: (cmd) => expect(cmd.pushes).toBe(true),
  },
  {
    input: 'outputs',
    with: { outputs: 'type=docker,name=app:1\ntype=docker,dest=/tmp/app.tar', load: 'true' },
    argv: ['--output', `type=docker,name=app:1,dest=${TEMP}/load-1.tar`, '--output', 'type=docker,dest=/tmp/app.tar', '--output', `type=docker,dest=${TEMP}/load-2.tar`],
    check: (cmd) => {
      expect(cmd.loadArchives).toEqual([`${TEMP}/load-1.tar`, `${TEMP}/load-2.tar`]);
      expect(cmd.pushes).toBe(false);
    },
  },
  { input: 'platforms', with: { platforms: 'linux/arm64' }, argv: ['--platform', 'linux/arm64'] },
  { input: 'platforms', with: { platforms: 'linux/amd64,linux/arm64' }, error: ['NOT_SUPPORTED', 'not supported yet: platforms (one platform per build'] },
  { input: 'provenance', with: { provenance: 'false' }, argv: [] },
  { input: 'provenance', with: { provenance: 'mode=max' }, error: ['NOT_SUPPORTED', 'not supported yet: provenance'] },
  { input: 'provenance', with: { provenance: 'true' }, error: ['NOT_SUPPORTED', 'not supported yet: provenance'] },
  { input: 'pull', with: { pull: 'True' }, argv: [], after: ['--pull'] },
  { input: 'push', with: { push: 'true', tags: 'ghcr.io/me/app:1' }, argv: ['--tag', 'ghcr.io/me/app:1'], after: ['--push'], check: (cmd) => expect(cmd.pushes).toBe(true) },
  { input: 'push', with: { push: 'yes' }, error: ['USAGE', 'input "push" is not a boolean: "yes"'] },
  { input: 'sbom', with: { sbom: 'FALSE' }, argv: [] },
  { input: 'sbom', with: { sbom: 'true' }, error: ['NOT_SUPPORTED', 'not supported yet: sbom'] },
  {
    input: 'secrets',
    with: { secrets: 'GIT_AUTH_TOKEN=abc123\n"NPMRC=//registry/:_authToken=x,y"' },
    argv: ['--secret', 'id=GIT_AUTH_TOKEN,env=TSBUILD_SECRET_0', '--secret', 'id=NPMRC,env=TSBUILD_SECRET_1'],
    env: { TSBUILD_SECRET_0: 'abc123', TSBUILD_SECRET_1: '//registry/:_authToken=x,y' },
    secrets: ['abc123', '//registry/:_authToken=x,y'],
  },
  { input: 'secrets', with: { secrets: 'just-a-value' }, error: ['USAGE', 'input "secrets": item 1 is not a valid secret'] },
  {
    input: 'secret-envs',
    with: { 'secret-envs': 'token=MY_SECRET,other=NOT_SET' },
    argv: ['--secret', 'id=token,env=MY_SECRET', '--secret', 'id=other,env=NOT_SET'],
    env: { MY_SECRET: 's3cret-from-env' },
    secrets: ['s3cret-from-env'],
    check: (cmd) => expect(cmd.env['NOT_SET']).toBeUndefined(),
  },
  { input: 'secret-files', with: { 'secret-files': 'npmrc=./.npmrc' }, argv: ['--secret', 'id=npmrc,src=./.npmrc'] },
  { input: 'secret-files', with: { 'secret-files': 'npmrc=' }, error: ['USAGE', 'input "secret-files": item 1 is not a valid secret'] },
  { input: 'shm-size', with: { 'shm-size': '2g' }, error: ['NOT_SUPPORTED', 'not supported yet: shm-size'] },
  { input: 'ssh', with: { ssh: 'default' }, argv: ['--ssh', 'default'], env: { SSH_AUTH_SOCK: '/tmp/ssh-agent.sock' } },
  { input: 'tags', with: { tags: 'ghcr.io/me/app:main,ghcr.io/me/app:sha-1a2b3c4' }, argv: ['--tag', 'ghcr.io/me/app:main', '--tag', 'ghcr.io/me/app:sha-1a2b3c4'] },
  { input: 'target', with: { target: 'runtime' }, argv: ['--target', 'runtime'] },
  { input: 'ulimit', with: { ulimit: 'nofile=1024:1024' }, error: ['NOT_SUPPORTED', 'not supported yet: ulimit'] },
  { input: 'summary', with: { summary: 'false' }, argv: [], check: (cmd) => expect(cmd.summary).toBe(false) },
];

function run(row: Row): BuildCommand {
  const env: Record<string, string> = { ...RUNNER, ...DEFAULTS };
  for (const [k, v] of Object.entries(row.with)) env[inputVariable(k)] = v;
  return buildCommand(readInputs(env), { env, tempDir: TEMP });
}

describe('inputs → tsbuild build', () => {
  it.each(ROWS.map((r) => [r.input, JSON.stringify(r.with), r] as const))('%s %s', (_input, _with, row) => {
    if (row.error !== undefined) {
      let err: unknown;
      try {
        run(row);
      } catch (e) {
        err = e;
      }
      expect(isBuildError(err) ? [err.code, err.message.slice(0, row.error[1].length)] : err).toEqual(row.error);
      return;
    }
    const cmd = run(row);
    expect(cmd.argv).toEqual(['build', ...(row.argv ?? []), '--metadata-file', META, ...(row.after ?? []), '--progress', 'json', row.context ?? '.']);
    expect(cmd.metadataFile).toBe(META);
    // Every flag is one `tsbuild build` takes.
    expect(() => parseArgs(cmd.argv.slice(1), BUILD_FLAGS, 'build')).not.toThrow();
    expect(cmd.env).toEqual({ DOCKER_CONFIG: '/home/runner/.docker', ...(row.env ?? {}) });
    if (row.secrets !== undefined) expect([...cmd.secrets].sort()).toEqual([...row.secrets, 'ghs_defaulttoken', 'runtime-token-value'].filter((v, i, a) => a.indexOf(v) === i).sort());
    row.check?.(cmd);
  });

  it('has a row for every input', () => {
    expect([...new Set(ROWS.map((r) => r.input))].sort()).toEqual([...INPUT_NAMES]);
  });

  it("passes no variable of the action's environment it was not asked for", () => {
    const cmd = run({ input: 'tags', with: { tags: 'a:1' } });
    expect(Object.keys(cmd.env)).toEqual(['DOCKER_CONFIG']);
  });

  it('takes DOCKER_CONFIG as set, else HOME/.docker', () => {
    const env = { ...DEFAULTS, DOCKER_CONFIG: '/etc/docker-cfg', HOME: '/root' };
    expect(buildCommand(readInputs(env), { env, tempDir: TEMP }).env['DOCKER_CONFIG']).toBe('/etc/docker-cfg');
  });
});
