/**
 * The native parts of tsbuild (the Node-API addon and the RUN sandbox's runner), compiled on the
 * runner from the C sources the action's payload ships (action-dist/native/, made by
 * scripts/payload.mjs): GitHub's Ubuntu runners have gcc, libc6-dev and libssl-dev, and the
 * payload brings the rest (the Node-API headers, the seccomp program made at build time), so
 * nothing is downloaded. Compiled once into a directory named by a hash of those sources (under
 * $RUNNER_TEMP, one per job): a second call finds it and compiles nothing.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors/index.js';

/** The addon's and the runner's file names, as the CLI looks for them in TSBUILD_NATIVE_DIR. */
export const ADDON_FILE = 'tsbuild_native.node';
export const RUNNER_FILE = 'tsbuild-runner';

interface Target {
  readonly output: string;
  readonly sources: readonly string[];
  readonly cflags: readonly string[];
}

/** native/build.json of the payload: binding.gyp's two targets, as scripts/payload.mjs wrote them. */
interface BuildJson {
  readonly addon: Target;
  readonly runner: Target;
}

export interface NativeParts {
  /** The directory holding ADDON_FILE and RUNNER_FILE. */
  readonly dir: string;
  /** False when an earlier call had compiled them already. */
  readonly compiled: boolean;
}

/** Every file below `dir`, as sorted relative paths. */
async function filesBelow(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await filesBelow(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** A hash of the sources' names and bytes and the architecture: the compiled parts' identity. */
async function sourcesKey(nativeDir: string, arch: string): Promise<string> {
  const h = createHash('sha256').update(`${arch}\0`);
  for (const rel of await filesBelow(nativeDir)) h.update(`${rel}\0`).update(await readFile(join(nativeDir, rel))).update('\0');
  return h.digest('hex').slice(0, 16);
}

function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code === 'string') return reject(err); // not started (ENOENT, EACCES)
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

const TOOLS_HINT = "install gcc, libc6-dev and libssl-dev (GitHub's Ubuntu runners have them)";

async function compile(what: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  let r;
  try {
    r = await run('gcc', args, cwd, env);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BuildError('IO', `gcc not found (${code ?? 'not started'}): the tsbuild action compiles its native parts on the runner`, { hint: TOOLS_HINT });
  }
  if (r.code !== 0) {
    throw new BuildError('IO', `compiling tsbuild's native ${what} with gcc failed (exit status ${r.code}):\n${r.stderr.trimEnd()}`, {
      hint: r.stderr.includes('openssl/') ? `the OpenSSL headers are missing: ${TOOLS_HINT}` : TOOLS_HINT,
    });
  }
}

/**
 * The addon and the runner compiled from `payloadDir`/native into a directory below
 * `cacheRoot`, or found there from an earlier call. `env` is the compiler's environment (its
 * PATH finds gcc). Compiled into a temporary directory renamed into place, so that a directory
 * under the final name is always complete, whoever else compiles at the same time.
 */
export async function ensureNativeParts(payloadDir: string, cacheRoot: string, env: NodeJS.ProcessEnv, arch: string = process.arch): Promise<NativeParts> {
  const src = join(payloadDir, 'native');
  const seccompDir = join('seccomp', arch);
  if (!existsSync(join(src, seccompDir))) {
    throw new BuildError('NOT_SUPPORTED', `not supported yet: ${arch} runners (the action ships the seccomp program for x64 only)`);
  }
  const build = JSON.parse(await readFile(join(src, 'build.json'), 'utf8')) as BuildJson;
  const dir = join(cacheRoot, `tsbuild-native-${await sourcesKey(src, arch)}`);
  if (existsSync(join(dir, ADDON_FILE)) && existsSync(join(dir, RUNNER_FILE))) return { dir, compiled: false };

  await mkdir(cacheRoot, { recursive: true });
  const tmp = await mkdtemp(`${dir}.tmp-`);
  try {
    // The defines node-gyp gives an addon; the Node-API symbols resolve from node at load.
    await compile(
      'addon',
      [
        '-shared', '-fPIC', '-pthread', ...build.addon.cflags, '-Wno-unused-parameter',
        `-DNODE_GYP_MODULE_NAME=${build.addon.output.replace(/\.node$/, '')}`,
        '-D_FILE_OFFSET_BITS=64', '-D_LARGEFILE_SOURCE', '-DBUILDING_NODE_EXTENSION',
        '-Inode-api', '-o', join(tmp, ADDON_FILE), ...build.addon.sources,
      ],
      src,
      env,
    );
    // Static where the C library's archive is there, as binding.gyp decides it (can-link-static.sh).
    const statik = await run('sh', ['can-link-static.sh'], src, { ...env, CC: 'gcc' }).catch(() => ({ stdout: '0' }));
    await compile(
      'runner',
      [...build.runner.cflags, ...(statik.stdout.trim() === '1' ? ['-fPIE', '-static-pie'] : []), `-I${seccompDir}`, '-o', join(tmp, RUNNER_FILE), ...build.runner.sources],
      src,
      env,
    );
    await chmod(tmp, 0o755);
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another call finished first: its parts are the same.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      await rm(tmp, { recursive: true, force: true });
      return { dir, compiled: false };
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, compiled: true };
}
