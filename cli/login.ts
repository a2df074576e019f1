/**
 * `tsbuild login` and `logout` (registry credentials in docker's config.json, as docker
 * keeps them) and `tsbuild push` (an image of the local store to a registry).
 */
import type { LayerFormat } from '../exporter/index.js';
import { BuildError } from '../errors/index.js';
import { checkLogin, parseReference, pushBlobsOf, pushImage, removeCredentials, saveCredentials } from '../registry/index.js';
import { defaultRoot, isImageError, openState, pushableImage } from '../build/index.js';
import { flagSet, flagValue, parseArgs, usageError, type FlagSpec, type ParsedArgs } from './args.js';
import { layerFormat } from './outputs.js';
import type { CommandIO } from './commands.js';
import { pushOptionsFor, registryAccess } from './registry-options.js';

const FLAGS: readonly FlagSpec[] = [
  { name: 'debug', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
  { name: 'username', short: 'u', type: 'string' },
  { name: 'password', short: 'p', type: 'string' },
  { name: 'password-stdin', type: 'boolean' },
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'registry-ca', type: 'string', multiple: true },
];

/** `docker.io` when no registry is named, as docker does. */
function registryArg(positionals: readonly string[], command: string): string {
  if (positionals.length > 1) throw usageError(`${command} takes one registry`, `tsbuild ${command} [REGISTRY]`);
  const r = positionals[0] ?? 'docker.io';
  return r.replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^index\.docker\.io$/, 'docker.io');
}

export async function loginCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'login');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild login [-u USER] [--password-stdin | -p PASSWORD] [REGISTRY]\n\nCheck the credentials with the registry and save them in docker\'s config.json.\n');
    return 0;
  }
  const domain = registryArg(p.positionals, 'login');
  const username = flagValue(p, 'username');
  if (username === undefined || username === '') throw usageError('login needs --username', 'tsbuild login -u USER --password-stdin REGISTRY');
  let password = flagValue(p, 'password');
  if (flagSet(p, 'password-stdin')) {
    if (password !== undefined) throw usageError('--password and --password-stdin cannot be used together');
    password = io.readStdin().toString('utf8').replace(/\r?\n$/, '');
  }
  if (password === undefined || password === '') throw usageError('login needs a password', 'pass it with --password-stdin');
  if (flagSet(p, 'password')) io.stderr('WARNING! Using --password on the command line is insecure. Use --password-stdin.\n');
  await checkLogin(domain, { username, password }, registryAccess(p, io.env));
  await saveCredentials(domain, username, password, io.env);
  io.stdout('Login Succeeded\n');
  return 0;
}

export async function logoutCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, FLAGS.slice(0, 2), 'logout');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild logout [REGISTRY]\n\nForget the saved credentials of a registry.\n');
    return 0;
  }
  const domain = registryArg(p.positionals, 'logout');
  io.stdout((await removeCredentials(domain, io.env)) ? `Removing login credentials for ${domain}\n` : `Not logged in to ${domain}\n`);
  return 0;
}

const PUSH_HELP = `Usage: tsbuild push [flags] NAME [TARGET]

Push an image of the local store to NAME's registry (or to TARGET).

      --format oci|docker        manifest media types (default oci)
      --compression-format C     gzip|zstd|uncompressed: how layers built here are compressed
      --compression-level N      gzip 0..9, zstd 1..22
      --force-compression        recompress base layers pulled with another compression too
      --insecure-registry H      reach registry H over plain HTTP (loopback is, by default)
      --registry-ca H=FILE       trust the CA in FILE (PEM) for registry H
      --root DIR                 the state directory (env TSBUILD_ROOT)
`;

/** The push flags as a layer format; the same rules as the build's output options. */
function pushFormat(p: ParsedArgs, io: CommandIO): LayerFormat {
  const kv = new Map<string, string>();
  const format = flagValue(p, 'format');
  if (format !== undefined) {
    if (format !== 'oci' && format !== 'docker' && format !== 'v2s2') throw usageError(`unknown --format "${format}"`, 'use oci or docker');
    kv.set('oci-mediatypes', String(format === 'oci'));
  }
  const compression = flagValue(p, 'compression-format');
  if (compression !== undefined) kv.set('compression', compression);
  const level = flagValue(p, 'compression-level');
  if (level !== undefined) kv.set('compression-level', level);
  if (flagSet(p, 'force-compression')) kv.set('force-compression', 'true');
  const warnings: string[] = [];
  const out = layerFormat(kv, warnings);
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  return out;
}

export async function pushCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(
    argv,
    [
      { name: 'compression-format', type: 'string' },
      { name: 'compression-level', type: 'string' },
      { name: 'debug', type: 'boolean' },
      { name: 'force-compression', type: 'boolean' },
      { name: 'format', type: 'string' },
      { name: 'help', short: 'h', type: 'boolean' },
      { name: 'insecure-registry', type: 'string', multiple: true },
      { name: 'registry-ca', type: 'string', multiple: true },
      { name: 'root', type: 'string' },
    ],
    'push',
  );
  if (flagSet(p, 'help')) {
    io.stdout(PUSH_HELP);
    return 0;
  }
  if (p.positionals.length < 1 || p.positionals.length > 2) throw usageError('push takes an image name and an optional target', 'tsbuild push NAME [TARGET]');
  const name = p.positionals[0]!;
  const target = parseReference(p.positionals[1] ?? name);
  const state = await openState(flagValue(p, 'root') ?? defaultRoot(io.env));
  let image;
  try {
    image = await state.images.resolveImage(name);
  } catch (e) {
    if (isImageError(e, 'IMAGE_NOT_FOUND')) throw new BuildError('IO', `no such image: ${name}`, { hint: 'list images with "tsbuild images"' });
    throw e;
  }
  const ready = await pushableImage(state, image, pushFormat(p, io));
  const access = registryAccess(p, io.env);
  const digest = await pushImage(target, pushBlobsOf(state.content, ready.blobs), ready.manifest, await pushOptionsFor(target.domain, access, state.content));
  io.stdout(`${p.positionals[1] ?? name}: digest: ${digest}\n`);
  return 0;
}
