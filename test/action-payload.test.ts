// The action's payload (action-dist/, made by npm run build) as a runner gets it: a copy of that
// directory alone, in a temp directory with no node_modules above it. tsbuildCommand's payload
// path compiles the native parts with gcc into a fresh $RUNNER_TEMP, then the payload's CLI
// builds a busybox image with a RUN and answers --version; a second call compiles nothing.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON_FILE, RUNNER_FILE, ensureNativeParts } from '../action/native-parts.js';
import { checkRunnerPlatform, payloadCommand, tsbuildCommand } from '../action/payload.js';
import { repoRoot } from './shared.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { busyboxBaseContext, expectOk } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-payload-'));
const payload = join(work, 'payload');
const runnerTemp = join(work, 'runner-temp');
let registry: TestRegistry | undefined;

beforeAll(() => {
  cpSync(join(repoRoot, 'action-dist'), payload, { recursive: true });
});
afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

function run(argv: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(argv[0]!, [...argv.slice(1), ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the payload copied alone', () => {
  it('reaches no node_modules: the packages the CLI uses are inside its bundle', () => {
    const req = createRequire(join(payload, 'tsbuild.cjs'));
    for (const pkg of ['undici', '@napi-rs/blake-hash', 'chevrotain', 'p-queue']) {
      expect(() => req.resolve(pkg), pkg).toThrow(expect.objectContaining({ code: 'MODULE_NOT_FOUND' }));
    }
  });

  it.skipIf(!isRoot && !isCI)('compiles the native parts once, then builds a busybox image with a RUN and tells its version', async () => {
    const argv = await payloadCommand(payload, { ...process.env, RUNNER_TEMP: runnerTemp });
    const [nativeDir] = readdirSync(runnerTemp);
    expect(readdirSync(runnerTemp)).toEqual([nativeDir]); // no temporary directory left beside it
    expect(argv).toEqual(['/usr/bin/env', `TSBUILD_NATIVE_DIR=${join(runnerTemp, nativeDir!)}`, process.execPath, join(payload, 'tsbuild.cjs')]);
    expect(readdirSync(join(runnerTemp, nativeDir!)).sort()).toEqual([RUNNER_FILE, ADDON_FILE].sort());

    const version = run(argv, ['--version']);
    expectOk(version);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(`tsbuild ${pkg.version}`);

    const context = await busyboxBaseContext(join(work, 'context'), ['RUN echo "built by the payload" > /made-by-run && ls /bin/busybox > /seen']);
    // Pushed too: the registry client (undici) runs from inside the bundle.
    registry = await startRegistry(join(work, 'registry'));
    const name = `${registry.host}/payload/app:1`;
    const out = join(work, 'out');
    const built = run(argv, ['build', '--progress', 'plain', '-t', name, '--push', '-o', `type=local,dest=${out}`, context], { TSBUILD_ROOT: join(work, 'root') });
    expectOk(built);
    expect(readFileSync(join(out, 'made-by-run'), 'utf8')).toBe('built by the payload\n');
    expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('/bin/busybox\n');
    const inspected = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' });
    expect(inspected.status, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as { Layers: string[] }).Layers).toHaveLength(2);

    // A second call finds what the first compiled.
    const before = statSync(join(runnerTemp, nativeDir!, RUNNER_FILE));
    expect(await payloadCommand(payload, { ...process.env, RUNNER_TEMP: runnerTemp })).toEqual(argv);
    const again = await ensureNativeParts(payload, runnerTemp, process.env);
    expect(again).toEqual({ dir: join(runnerTemp, nativeDir!), compiled: false });
    const after = statSync(join(runnerTemp, nativeDir!, RUNNER_FILE));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('fails with one clear error when gcc is missing, and leaves nothing half-made', async () => {
    const temp = join(work, 'no-gcc-temp');
    const err = await payloadCommand(payload, { PATH: join(work, 'no-such-bin'), RUNNER_TEMP: temp }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO', message: expect.stringMatching(/^gcc not found \(ENOENT\): the tsbuild action compiles its native parts on the runner$/) });
    expect(readdirSync(temp)).toEqual([]);
  });

  it('fails with the compiler\'s own message when a source does not compile, and leaves nothing half-made', async () => {
    const broken = join(work, 'broken-payload');
    cpSync(payload, broken, { recursive: true });
    appendFileSync(join(broken, 'native', 'runner', 'util.c'), '\n#error this payload is broken\n');
    const temp = join(work, 'broken-temp');
    const err = await ensureNativeParts(broken, temp, process.env).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO', message: expect.stringMatching(/^compiling tsbuild's native runner with gcc failed \(exit status 1\):\n[^]*#error this payload is broken/) });
    expect(readdirSync(temp)).toEqual([]);
  });
});

describe('the runners served', () => {
  it('linux x64 only: arm64 and others fail at start as not supported yet', () => {
    expect(() => checkRunnerPlatform('linux', 'x64')).not.toThrow();
    expect(() => checkRunnerPlatform('linux', 'arm64')).toThrow(
      expect.objectContaining({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/^not supported yet: arm64 runners \(the action ships the BLAKE3 binding/) }),
    );
    expect(() => checkRunnerPlatform('darwin', 'x64')).toThrow(/^not supported yet: darwin runners/);
  });

  it('from a checkout (not a payload) the command is the checkout CLI', async () => {
    expect(await tsbuildCommand(process.env)).toEqual([process.execPath, join(repoRoot, 'bin', 'tsbuild.js')]);
  });
});
