/** Running the built `tsbuild` binary from tests, and the checks every build test repeats. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../shared.js';
import { makeBusyboxRootfs } from './rootfs.js';

export const TSBUILD = join(repoRoot, 'bin', 'tsbuild.js');

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `timeout` (ms) kills a build that hangs, so that the test fails instead of waiting forever. */
export function tsbuildSync(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {}): Run {
  const r = spawnSync(process.execPath, [TSBUILD, ...args], {
    cwd: opts.cwd,
    ...(opts.timeout === undefined ? {} : { timeout: opts.timeout, killSignal: 'SIGKILL' as const }),
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tsbuildAsync(
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): { child: ReturnType<typeof spawn>; done: Promise<Run> } {
  return spawnAsync(process.execPath, [TSBUILD, ...args], opts);
}

/** `run` without blocking the event loop: for tools that talk to servers the test runs in-process. */
export function runAsync(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return spawnAsync(cmd, args, opts).done;
}

function spawnAsync(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string },
): { child: ReturnType<typeof spawn>; done: Promise<Run> } {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${cmd} is not installed: ${e.message} (bash .ci/run installs it)`)));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, done };
}

/** Overlay mounts below `dir` that are still mounted (there must be none after a build). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir));
}

export function run(cmd: string, args: readonly string[], cwd?: string): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`${cmd} is not installed: ${r.error.message} (bash .ci/run installs it)`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh build context below `parent` holding only `dockerfile`. */
export function contextWith(parent: string, dockerfile: string): string {
  const dir = mkdtempSync(join(parent, 'ctx-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/**
 * A busybox base image (FROM scratch, COPY of a busybox rootfs) built by tsbuild into an OCI
 * archive under `work`, for tests to put into their registries with skopeo; its path.
 */
export async function makeBaseArchive(work: string): Promise<string> {
  const base = mkdtempSync(join(work, 'base-'));
  await makeBusyboxRootfs(join(base, 'rootfs'));
  writeFileSync(join(base, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
  const archive = join(work, 'base.oci.tar');
  const made = await tsbuildAsync(['build', '--root', join(work, 'maker'), '--progress', 'quiet', '-o', `type=oci,dest=${archive},name=base:1`, base]).done;
  if (made.status !== 0) throw new Error(`the base image could not be built: ${made.stderr}`);
  return archive;
}
