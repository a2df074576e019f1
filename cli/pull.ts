/** `tsbuild pull NAME`: an image from its registry into the local store, without building. */
import { BuildError } from '../errors/index.js';
import { defaultRoot, hostPlatform, openState, parsePlatform, pullToStore, type Platform } from '../build/index.js';
import { flagSet, flagValue, parseArgs, usageError } from './args.js';
import type { CommandIO } from './command-io.js';
import { registryAccess } from './registry-options.js';

const PULL_HELP = `Usage: tsbuild pull [flags] NAME

Pull an image from its registry into the local image store (every digest verified). Builds
that use it as a base then ask the registry nothing; its layers are unpacked when a build
first uses them.

      --platform OS/ARCH[/VARIANT]  the image of an index to pull (default: this machine's)
      --insecure-registry H         reach registry H over plain HTTP (loopback is, by default)
      --registry-ca H=FILE          trust the CA in FILE (PEM) for registry H
      --root DIR                    the state directory (env TSBUILD_ROOT)
`;

export async function pullCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(
    argv,
    [
      { name: 'debug', type: 'boolean' },
      { name: 'help', short: 'h', type: 'boolean' },
      { name: 'platform', type: 'string' },
      { name: 'insecure-registry', type: 'string', multiple: true },
      { name: 'registry-ca', type: 'string', multiple: true },
      { name: 'root', type: 'string' },
    ],
    'pull',
  );
  if (flagSet(p, 'help')) {
    io.stdout(PULL_HELP);
    return 0;
  }
  if (p.positionals.length !== 1) throw usageError('pull takes one image name', 'tsbuild pull [--platform P] NAME');
  let platform: Platform = hostPlatform();
  const spec = flagValue(p, 'platform');
  if (spec !== undefined) {
    try {
      platform = parsePlatform(spec);
    } catch (e) {
      if (e instanceof BuildError) throw usageError(`--platform: ${e.message}`, e.hint);
      throw e;
    }
  }
  const name = p.positionals[0]!;
  const state = await openState(flagValue(p, 'root') ?? defaultRoot(io.env));
  const pulled = await pullToStore(state, name, platform, registryAccess(p, io.env));
  io.stdout(`${name}: digest: ${pulled.manifest.digest}\n`);
  return 0;
}
