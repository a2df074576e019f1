/**
 * The state directory (`--root`): where every store lives. Each store writes atomically, so
 * a build killed at any instant leaves a root the next build uses as it is.
 */
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { openContentStore, type ContentStore } from '../content/index.js';
import { openImageStore, type ImageStore } from '../images/index.js';
import { openOverlaySnapshotter, type SnapshotDirectories, type Snapshotter } from '../snapshotter/index.js';
import { scratchDirFor, sweepStaleScratch } from './scratch.js';

export interface State {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter & SnapshotDirectories;
  readonly images: ImageStore;
  /** cache key → snapshot records. */
  readonly cacheDir: string;
  /** chain id → snapshot records: which snapshot holds an image layer chain. */
  readonly layersDir: string;
  /** Per-snapshot layer facts (diff id, size), computed once. */
  readonly layerMetaDir: string;
  /** Per-snapshot use by builds (last time, count), for least-recently-used pruning. */
  readonly snapshotUseDir: string;
  /** RUN --mount=type=cache directories. */
  readonly cacheMountsDir: string;
  readonly leasesDir: string;
  /** Scratch space for mount points and the like, this process's own (see scratch.ts). */
  readonly tmpDir: string;
  /** The stat cache of a context directory (BLAKE3 hashes of its unchanged files). */
  statCacheFile(contextDir: string): string;
}

/** `--root`, else $TSBUILD_ROOT, else /var/lib/tsbuild (root) or $XDG_DATA_HOME/tsbuild. */
export function defaultRoot(env: NodeJS.ProcessEnv): string {
  if (env.TSBUILD_ROOT !== undefined && env.TSBUILD_ROOT !== '') return env.TSBUILD_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  const data = env.XDG_DATA_HOME ?? join(env.HOME ?? '/tmp', '.local', 'share');
  return join(data, 'tsbuild');
}

export async function openState(rootPath: string): Promise<State> {
  // Mount targets and the runner's paths must be absolute: `--root ./state` is taken from here.
  const root = resolve(rootPath);
  const dirs = {
    cacheDir: join(root, 'cache'),
    layersDir: join(root, 'layers'),
    layerMetaDir: join(root, 'layer-meta'),
    snapshotUseDir: join(root, 'snapshot-use'),
    cacheMountsDir: join(root, 'cache-mounts'),
    leasesDir: join(root, 'leases'),
    // This process's own scratch directory (scratch.ts).
    tmpDir: scratchDirFor(join(root, 'tmp')),
  };
  // Synchronous, as the stores' own opening: microseconds each, at every command's start.
  for (const d of [root, ...Object.values(dirs), join(root, 'content'), join(root, 'snapshots'), join(root, 'images')]) {
    mkdirSync(d, { recursive: true });
  }
  await sweepStaleScratch(join(root, 'tmp'));
  const content = await openContentStore(join(root, 'content'));
  const snapshots = await openOverlaySnapshotter(join(root, 'snapshots'));
  const images = await openImageStore({ root: join(root, 'images'), content, leasesDir: dirs.leasesDir });
  const statDir = join(root, 'context-stat');
  mkdirSync(statDir, { recursive: true });
  return {
    root,
    content,
    snapshots,
    images,
    ...dirs,
    statCacheFile: (contextDir) => join(statDir, `${createHash('sha256').update(contextDir).digest('hex')}.json`),
  };
}
