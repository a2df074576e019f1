/** `tsbuild images | tag | rmi | inspect | du | prune`: the local image store and build cache. */
import { BuildError } from '../errors/index.js';
import { readLiveLeases } from '../content/index.js';
import { defaultRoot, isImageError, openState, readImageConfig, type State } from '../build/index.js';
import { ALL_SNAPSHOTS, buildCacheEntries, pruneBuildCache } from '../build/index.js';
import { flagSet, flagValue, parseArgs, usageError, type FlagSpec } from './args.js';
import type { CommandIO } from './commands.js';
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

async function imageFacts(state: State, name: string) {
  let image;
  try {
    image = await state.images.resolveImage(name);
  } catch (e) {
    if (isImageError(e, 'IMAGE_NOT_FOUND') || isImageError(e, 'BAD_REFERENCE')) {
      throw new BuildError('IO', `no such image: ${name}`, { hint: 'list images with "tsbuild images"' });
    }
    throw e;
  }
  const config = (await readImageConfig(state.content, image)).raw;
  const layers = image.layers.reduce((sum, l) => sum + l.size, 0);
  return { image, config, layers };
}

export async function imagesCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, [...COMMON, { name: 'quiet', short: 'q', type: 'boolean' }], 'images');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild images [--quiet] [--root DIR]\n\nList the images in the local store.\n');
    return 0;
  }
  const state = await stateFor(p, io);
  const rows: string[][] = [['NAME', 'IMAGE ID', 'CREATED', 'SIZE']];
  for (const rec of await state.images.listImages()) {
    const { image, config, layers } = await imageFacts(state, rec.name);
    if (flagSet(p, 'quiet')) {
      io.stdout(`${image.config.digest}\n`);
      continue;
    }
    rows.push([rec.name, image.config.digest.slice(7, 19), String(config.created ?? ''), size(layers)]);
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
  const { image } = await imageFacts(state, p.positionals[0]!);
  await state.images.tagImage(p.positionals[1]!, image.manifest);
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
    await imageFacts(state, name);
    await state.images.removeImage(name);
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
  const usage = await state.images.imageDiskUsage();
  let snapshots = 0;
  let count = 0;
  for await (const s of state.snapshots.walk()) {
    if (s.kind !== 'committed') continue;
    snapshots += (await state.snapshots.usage(s.name)).size;
    count++;
  }
  // What no image uses: what prune may remove, and what --keep-storage limits.
  const cache = (await buildCacheEntries(state)).committed.reduce((sum, e) => sum + e.size, 0);
  io.stdout(`images          ${usage.images.length}\n`);
  io.stdout(`blobs           ${size(usage.totalSize)} (${size(usage.reclaimableSize)} reclaimable)\n`);
  io.stdout(`build cache     ${size(snapshots)} in ${count} snapshots (${size(cache)} reclaimable)\n`);
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
  const live = await readLiveLeases(state.leasesDir, { removeStale: true });
  let cache = { removed: 0, reclaimed: 0, kept: 0 };
  if (live.snapshots.has(ALL_SNAPSHOTS)) {
    io.stderr('warning: a build is running: the build cache is kept\n');
  } else {
    cache = await pruneBuildCache(state, keepStorage === undefined ? {} : { keepBytes: keepStorage });
  }
  // One budget: what the build cache keeps counts against unused blobs too.
  const blobBudget = keepStorage === undefined ? undefined : Math.max(0, keepStorage - cache.kept);
  const blobs = await state.images.prune({ all: flagSet(p, 'all'), ...(blobBudget === undefined ? {} : { keepStorage: blobBudget }) });
  io.stdout(`Total reclaimed: ${size(blobs.reclaimed + cache.reclaimed)} (${blobs.deleted.length} blobs, ${cache.removed} cache snapshots)\n`);
  return 0;
}
