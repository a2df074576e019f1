/** `tsbuild push NAME [TARGET]`: its flags and what it prints; the push itself is build/'s. */
import { defaultRoot, pushStoredImage, type LayerFormat } from '../build/index.js';
import { flagSet, flagValue, parseArgs, usageError, type ParsedArgs } from './args.js';
import type { CommandIO } from './command-io.js';
import { layerFormat } from './outputs.js';
import { registryAccess } from './registry-options.js';

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
  const target = p.positionals[1];
  const digest = await pushStoredImage({
    root: flagValue(p, 'root') ?? defaultRoot(io.env),
    name,
    ...(target === undefined ? {} : { target }),
    format: pushFormat(p, io),
    access: registryAccess(p, io.env),
  });
  io.stdout(`${p.positionals[1] ?? name}: digest: ${digest}\n`);
  return 0;
}
