/**
 * Where the action finds `tsbuild`. Bundled into the payload (action-dist/main.cjs, which
 * action.yml runs), the CLI is the payload's own tsbuild.cjs, with the native parts compiled on
 * the runner first (native-parts.ts) and named to the CLI by TSBUILD_NATIVE_DIR. Run from a
 * checkout (the sources, or tsc's dist/action/), it is the checkout's bin/tsbuild.js, whose
 * native parts npm ci built.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError } from '../errors/index.js';
import { ensureNativeParts } from './native-parts.js';

/** The CLI's environment variable for the native parts' directory (native/index.ts reads it). */
const NATIVE_DIR_ENV = 'TSBUILD_NATIVE_DIR';
/** The payload's CLI bundle, beside the action's entry bundle. */
const PAYLOAD_CLI = 'tsbuild.cjs';

/** Runners the payload can serve: its BLAKE3 binding and seccomp program are linux x64's. */
export function checkRunnerPlatform(platform: string, arch: string): void {
  if (platform !== 'linux') throw new BuildError('NOT_SUPPORTED', `not supported yet: ${platform} runners (tsbuild builds on Linux only)`);
  if (arch !== 'x64') {
    throw new BuildError(
      'NOT_SUPPORTED',
      `not supported yet: ${arch} runners (the action ships the BLAKE3 binding @napi-rs/blake-hash and the seccomp program for linux x64 only)`,
      { hint: 'use an x64 runner (runs-on: ubuntu-24.04 or ubuntu-22.04)' },
    );
  }
}

/** Whether `dir` is a payload (scripts/payload.mjs's output). */
export function isPayloadDir(dir: string): boolean {
  return existsSync(join(dir, PAYLOAD_CLI)) && existsSync(join(dir, 'native', 'build.json'));
}

/**
 * The command prefix that runs the CLI of the payload at `payloadDir`, its native parts compiled
 * below $RUNNER_TEMP (else the system's temp directory). The directory goes in the command
 * itself (through env(1)), so that it reaches the CLI whatever environment the command runs in
 * (sudo passes on only what it is told).
 */
export async function payloadCommand(payloadDir: string, env: NodeJS.ProcessEnv): Promise<readonly string[]> {
  checkRunnerPlatform(process.platform, process.arch);
  const cacheRoot = env.RUNNER_TEMP !== undefined && env.RUNNER_TEMP !== '' ? env.RUNNER_TEMP : tmpdir();
  const { dir } = await ensureNativeParts(payloadDir, cacheRoot, env);
  return ['/usr/bin/env', `${NATIVE_DIR_ENV}=${dir}`, process.execPath, join(payloadDir, PAYLOAD_CLI)];
}

/** The checkout above `dir` that has bin/tsbuild.js. */
function checkoutCli(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    const cli = join(d, 'bin', 'tsbuild.js');
    if (existsSync(cli)) return cli;
    if (dirname(d) === d) throw new BuildError('IO', `tsbuild's CLI not found above ${dir}: neither a payload (action-dist/) nor a checkout`);
  }
}

/** The argv prefix that runs `tsbuild`, after making sure everything the CLI needs is there. */
export async function tsbuildCommand(env: NodeJS.ProcessEnv): Promise<readonly string[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  if (isPayloadDir(here)) return payloadCommand(here, env);
  return [process.execPath, checkoutCli(here)];
}
