/**
 * `--secret` and `--ssh`, read as docker buildx reads them, and turned into the sources a
 * build may use. Values are read only when a step mounts them, and never printed: errors
 * name ids, files and variables, not contents.
 */
import { constants, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BuildError } from '../errors/index.js';
import { csvFields, CsvError, type SecretSources, type SshSources } from '../build/index.js';
import { usageError } from './args.js';

/** BuildKit refuses larger secrets. */
export const MAX_SECRET_SIZE = 500 * 1024;

export interface SecretSpec {
  readonly id: string;
  /** `src` / `source`: a file. */
  readonly file?: string;
  /** `env`: an environment variable. */
  readonly env?: string;
}

/** One `--secret` value: `id=ID[,src=PATH|,env=VAR][,type=file|env]` (buildx's rules). */
export function parseSecretSpec(value: string): SecretSpec {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (e) {
    if (e instanceof CsvError) throw usageError(`--secret ${value}: failed to parse csv secret: ${e.message}`);
    throw e;
  }
  let id = '';
  let file = '';
  let env = '';
  let type = '';
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0) throw usageError(`--secret: invalid field '${field}' must be a key=value pair`, 'write --secret id=ID,src=FILE or --secret id=ID,env=VARIABLE');
    const key = field.slice(0, eq).toLowerCase();
    const v = field.slice(eq + 1);
    switch (key) {
      case 'type':
        if (v !== 'file' && v !== 'env') throw usageError(`--secret: unsupported secret type "${v}"`, 'use type=file or type=env');
        type = v;
        break;
      case 'id':
        id = v;
        break;
      case 'src':
      case 'source':
        file = v;
        break;
      case 'env':
        env = v;
        break;
      default:
        throw usageError(`--secret: unexpected key '${key}' in '${field}'`, 'the keys are id, src (or source), env and type');
    }
  }
  // type=env names the variable with src when env= is not given.
  if (type === 'env' && env === '') {
    env = file;
    file = '';
  }
  if (id === '') throw usageError(`--secret ${value}: secret missing ID`, 'write --secret id=ID,...');
  return { id, ...(file === '' ? {} : { file }), ...(env === '' ? {} : { env }) };
}

/**
 * The secrets of a build. As BuildKit's store: a secret with neither src nor env reads the
 * variable named by its id when it is set, else the file named by its id; a later id replaces
 * an earlier one. Checked before the build starts: a file must exist and be a regular file
 * (a symlink to one is fine) of at most 500 KiB, a variable at most 500 KiB, as BuildKit
 * limits secrets. A device, FIFO, socket or directory is refused without being opened, so
 * `src=/dev/zero` or a FIFO nobody writes can neither fill memory nor hang the build.
 */
export function openSecrets(specs: readonly SecretSpec[], environ: NodeJS.ProcessEnv): SecretSources {
  const out = new Map<string, () => Promise<Uint8Array>>();
  for (const spec of specs) {
    let { file, env } = spec;
    if (file === undefined && env === undefined) {
      if (environ[spec.id] !== undefined) env = spec.id;
      else file = spec.id;
    }
    if (env !== undefined) {
      const name = env;
      checkEnvSize(spec.id, environ[name]);
      // BuildKit reads the variable when the step asks; an unset one is an empty secret.
      out.set(spec.id, async () => {
        const value = environ[name] ?? '';
        checkEnvSize(spec.id, value);
        return Buffer.from(value, 'utf8');
      });
      continue;
    }
    const path = file!;
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      throw new BuildError('IO', `secret ${spec.id}: cannot read ${path}: ${errnoText(e)}`, { hint: 'name an existing file with --secret id=ID,src=FILE' });
    }
    if (!st.isFile()) throw notRegular(spec.id, path, st);
    if (st.size > MAX_SECRET_SIZE) throw tooBig(spec.id);
    out.set(spec.id, () => readSecretFile(spec.id, path));
  }
  return out;
}

/** BuildKit's wording for a secret over the limit. */
function tooBig(id: string): BuildError {
  return new BuildError('IO', `secret ${id} too big. max size 500KiB`, { hint: 'a secret holds at most 500 KiB (512000 bytes)' });
}

function checkEnvSize(id: string, value: string | undefined): void {
  if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_SECRET_SIZE) throw tooBig(id);
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A source that is no file at all is a bad flag value: usage, exit 2. */
function notRegular(id: string, path: string, st: Stats): BuildError {
  return usageError(`--secret id=${id}: ${path} is ${kindOf(st)}; a secret source must be a regular file`, 'give a file (or env=VARIABLE) of at most 500 KiB');
}

/**
 * A secret file's bytes, read when a step mounts it. Opened without blocking (a FIFO that
 * replaced the file since the build started opens at once and is then refused) and never read
 * past the limit, whatever the file became.
 */
async function readSecretFile(id: string, path: string): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw new BuildError('IO', `secret ${id}: cannot read ${path}: ${errnoText(e)}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegular(id, path, st);
    const buffer = Buffer.alloc(MAX_SECRET_SIZE + 1); // one spare byte notices a file over the limit
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > MAX_SECRET_SIZE) throw tooBig(id);
    return buffer.subarray(0, filled);
  } catch (e) {
    if (e instanceof BuildError) throw e;
    throw new BuildError('IO', `secret ${id}: cannot read ${path}: ${errnoText(e)}`);
  } finally {
    await handle.close();
  }
}

export interface SshSpec {
  readonly id: string;
  /** Agent sockets or key files; empty means $SSH_AUTH_SOCK. */
  readonly paths: readonly string[];
}

/** One `--ssh` value: `default|ID[=SOCKET|KEY[,KEY...]]`. */
export function parseSshSpec(value: string): SshSpec {
  const eq = value.indexOf('=');
  const id = eq < 0 ? value : value.slice(0, eq);
  const paths = eq < 0 ? [] : value.slice(eq + 1).split(',');
  return { id: id === '' ? 'default' : id, paths: paths.length === 1 && paths[0] === '' ? [] : paths };
}

/**
 * The agents of a build by id. Without a path, an agent is $SSH_AUTH_SOCK. A path must be an
 * agent's socket: key files need an agent of tsbuild's own, which it does not have yet.
 */
export function openSsh(specs: readonly SshSpec[], environ: NodeJS.ProcessEnv): SshSources {
  const out = new Map<string, string>();
  for (const spec of specs) {
    if (out.has(spec.id)) throw usageError(`--ssh: duplicate agent ID "${spec.id}"`);
    let paths = spec.paths;
    if (paths.length === 0) {
      const sock = environ.SSH_AUTH_SOCK ?? '';
      if (sock === '') {
        throw new BuildError('SSH_NOT_FOUND', `--ssh ${spec.id}: invalid empty ssh agent socket: SSH_AUTH_SOCK is not set`, {
          hint: `start an agent (eval "$(ssh-agent)"; ssh-add) or name its socket: --ssh ${spec.id}=SOCKET`,
        });
      }
      paths = [sock];
    }
    if (paths.length > 1) {
      throw new BuildError('NOT_SUPPORTED', `not supported yet: --ssh with key files (--ssh ${spec.id} names ${paths.length} paths)`, {
        hint: 'load the keys into an ssh-agent and pass its socket',
      });
    }
    const path = paths[0]!;
    let socket: boolean;
    try {
      socket = statSync(path).isSocket();
    } catch (e) {
      throw new BuildError('IO', `--ssh ${spec.id}: ${path}: ${errnoText(e)}`);
    }
    if (!socket) {
      throw new BuildError('NOT_SUPPORTED', `not supported yet: --ssh with key files (${path} is not an agent socket)`, {
        hint: `load the key into an ssh-agent (ssh-add ${path}) and pass --ssh ${spec.id}`,
      });
    }
    out.set(spec.id, path);
  }
  return out;
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return code ?? (e instanceof Error ? e.message : String(e));
}
