/**
 * `--secret` and `--ssh`, read as docker buildx reads them, and turned into the sources a
 * build may use. Values are read only when a step mounts them, and never printed: errors
 * name ids, files and variables, not contents.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BuildError } from '../errors/index.js';
import { csvFields, CsvError } from '../frontend/index.js';
import type { SecretSources, SshSources } from '../solver/ops/index.js';
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
 * variable named by its id when it is set, else the file named by its id; files must exist
 * (and be at most 500 KiB) when the build starts; a later id replaces an earlier one.
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
      // BuildKit reads the variable when the step asks; an unset one is an empty secret.
      out.set(spec.id, async () => Buffer.from(environ[name] ?? '', 'utf8'));
      continue;
    }
    const path = file!;
    let size: number;
    try {
      size = statSync(path).size;
    } catch (e) {
      throw new BuildError('IO', `secret ${spec.id}: cannot read ${path}: ${errnoText(e)}`, { hint: 'name an existing file with --secret id=ID,src=FILE' });
    }
    if (size > MAX_SECRET_SIZE) throw new BuildError('IO', `secret ${spec.id} too big: at most 500 KiB`);
    out.set(spec.id, async () => {
      try {
        return await readFile(path);
      } catch (e) {
        throw new BuildError('IO', `secret ${spec.id}: cannot read ${path}: ${errnoText(e)}`);
      }
    });
  }
  return out;
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
