/** `tsbuild images | tag | rmi | inspect | du | prune`: the local image store and build cache. */
import { defaultRoot, diskUsage, imageFacts, openState, pruneStore, storedImages, tagStoredImage, untagStoredImage, type State } from '../build/index.js';
import { flagSet, flagValue, parseArgs, usageError, type FlagSpec } from './args.js';
import type { CommandIO } from './command-io.js';
import { parseDockerSize } from './sizes.js';

const COMMON: readonly FlagSpec[] = [
  { name: 'debug', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
  { name: 'root', type: 'string' },
];

async function stateFor(p: { flags: ReadonlyMap<string, readonly string[]> }, io: CommandIO): Promise<State> {
  return openState(flagValue(p as never, 'root') ?? defaultRoot(io.env));
}

function size(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[u]}`;
}

export async function imagesCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, [...COMMON, { name: 'quiet', short: 'q', type: 'boolean' }], 'images');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild images [--quiet] [--root DIR]\n\nList the images in the local store.\n');
    return 0;
  }
  const state = await stateFor(p, io);
  const rows: string[][] = [['NAME', 'IMAGE ID', 'CREATED', 'SIZE']];
  for await (const { name, image, config, layers } of storedImages(state)) {
    if (flagSet(p, 'quiet')) {
      io.stdout(`${image.config.digest}\n`);
      continue;
    }
    rows.push([name, image.config.digest.slice(7, 19), String(config.created ?? ''), size(layers)]);
  }
  if (!flagSet(p, 'quiet')) {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) io.stdout(r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd() + '\n');
  }
  return 0;
}

export async function tagCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, COMMON, 'tag');
  if (flagSet(p, 'help') || p.positionals.length !== 2) {
    if (flagSet(p, 'help')) {
      io.stdout('Usage: tsbuild tag SOURCE TARGET\n\nGive an image in the local store another name.\n');
      return 0;
    }
    throw usageError('tag takes two names', 'tsbuild tag SOURCE TARGET');
  }
  const state = await stateFor(p, io);
  await tagStoredImage(state, p.positionals[0]!, p.positionals[1]!);
  return 0;
}

export async function rmiCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, COMMON, 'rmi');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild rmi NAME...\n\nRemove names from the local store (and blobs nothing else uses).\n');
    return 0;
  }
  if (p.positionals.length === 0) throw usageError('rmi needs at least one image name');
  const state = await stateFor(p, io);
  for (const name of p.positionals) {
    await untagStoredImage(state, name);
    io.stdout(`Untagged: ${name}\n`);
  }
  return 0;
}

export async function inspectCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, COMMON, 'inspect');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild inspect NAME...\n\nPrint images of the local store as JSON: digests, config, history.\n');
    return 0;
  }
  if (p.positionals.length === 0) throw usageError('inspect needs at least one image name');
  const state = await stateFor(p, io);
  const out = [];
  for (const name of p.positionals) {
    const { image, config } = await imageFacts(state, name);
    out.push({ Name: name, Id: image.config.digest, Digest: image.manifest.digest, ...config });
  }
  io.stdout(JSON.stringify(out, null, 2) + '\n');
  return 0;
}

export async function duCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, COMMON, 'du');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild du [--root DIR]\n\nShow the disk space of images, blobs and the build cache.\n');
    return 0;
  }
  const state = await stateFor(p, io);
  const usage = await diskUsage(state);
  io.stdout(`images          ${usage.images}\n`);
  io.stdout(`blobs           ${size(usage.blobs.size)} (${size(usage.blobs.reclaimable)} reclaimable)\n`);
  io.stdout(`build cache     ${size(usage.buildCache.size)} in ${usage.buildCache.count} snapshots (${size(usage.buildCache.reclaimable)} reclaimable)\n`);
  return 0;
}

export async function pruneCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, [...COMMON, { name: 'all', short: 'a', type: 'boolean' }, { name: 'keep-storage', type: 'string' }], 'prune');
  if (flagSet(p, 'help')) {
    io.stdout(
      'Usage: tsbuild prune [--all] [--keep-storage SIZE]\n\n' +
        'Remove blobs and build cache that no image uses. --all also drops compressed layers kept for\n' +
        'exports. --keep-storage keeps up to SIZE (e.g. 10GB; units of 1024, as docker) of it, removing\n' +
        'what builds used least recently first. Nothing a running build holds is removed.\n',
    );
    return 0;
  }
  const keep = flagValue(p, 'keep-storage');
  const keepStorage = keep === undefined ? undefined : parseDockerSize('keep-storage', keep);
  const state = await stateFor(p, io);
  const pruned = await pruneStore(state, { all: flagSet(p, 'all'), ...(keepStorage === undefined ? {} : { keepStorage }) });
  if (pruned.buildRunning) io.stderr('warning: a build is running: the build cache is kept\n');
  io.stdout(`Total reclaimed: ${size(pruned.reclaimed)} (${pruned.blobs} blobs, ${pruned.cacheSnapshots} cache snapshots)\n`);
  return 0;
}
