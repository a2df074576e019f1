/**
 * Walking a directory as BuildKit's context transfer sees it: names in byte order, parents
 * before children, `.dockerignore`d entries left out (whole subtrees skipped when the
 * matcher says nothing below can come back), and an excluded directory yielded only when
 * something below it is kept, just before that first kept entry.
 */
import { readdirSync, type BigIntStats } from 'node:fs';
import type { DirState, Matcher } from '../../../frontend/dockerignore/index.js';
import { lstatOrUndefined, lstatSyncOrUndefined } from '../file/root-path.js';
import { byteOrder } from '../file/wildcards.js';

export interface WalkEntry {
  /** Path relative to the walked root, slash-separated, never empty. */
  readonly path: string;
  /** Path relative to the walk's start ('' for the start itself). */
  readonly sub: string;
  readonly stats: BigIntStats;
}

export interface WalkOptions {
  /** .dockerignore, matched against root-relative paths. */
  readonly ignore?: Matcher;
  /** COPY --exclude, matched against start-relative paths. */
  readonly exclude?: Matcher;
  readonly signal?: AbortSignal;
}

/**
 * The walk calls readdir and lstat synchronously: on a cached tree each costs a few
 * microseconds, a trip through libuv's thread pool several times that, and a walk of an
 * unchanged context is nothing but these calls. It lets the event loop run whenever it has
 * run this long.
 */
const SLICE_MS = 8;

interface Pending {
  readonly entry: WalkEntry;
  yielded: boolean;
}

/** The included entries of the context (the root itself is not yielded). */
export function walkContext(contextDir: string, matcher?: Matcher, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  return walkTree(contextDir, '', { ignore: matcher, signal });
}

/**
 * Entries at and below `start` (root-relative; '' for the root, which is then not yielded).
 * `start` must exist; it is not followed if it is a symlink.
 */
export async function* walkTree(root: string, start: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  for await (const batch of walkTreeBatches(root, start, opts)) yield* batch;
}

/** How many entries walkTreeBatches gathers before handing them out. */
const BATCH = 256;

/**
 * walkTree's entries, in the same order, a few hundred at a time: a consumer of 20,000
 * entries then pays for a few dozen async steps, not 20,000 (times the directory depth).
 */
export async function* walkTreeBatches(root: string, start: string, opts: WalkOptions): AsyncGenerator<WalkEntry[]> {
  const abs = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const { ignore, exclude, signal } = opts;
  const pending: Pending[] = [];
  let out: WalkEntry[] = [];

  let ignoreState: DirState | undefined;
  if (ignore !== undefined && start !== '') {
    let path = '';
    for (const c of start.split('/').slice(0, -1)) {
      path = path === '' ? c : `${path}/${c}`;
      ignoreState = ignore.enterDir(path, ignoreState);
    }
  }
  const startStats = await lstatOrUndefined(abs(start));
  if (startStats === undefined) return;
  let sliceStart = performance.now();

  /** An entry is kept: the excluded directories above it that were held back come first. */
  const keep = (entry: WalkEntry): void => {
    for (const p of pending) {
      if (!p.yielded && p.entry.path !== '') out.push(p.entry);
      p.yielded = true;
    }
    if (entry.path !== '') out.push(entry);
  };

  async function* visit(rel: string, sub: string, stats: BigIntStats, parentIgnore?: DirState, parentExclude?: DirState): AsyncGenerator<WalkEntry[]> {
    signal?.throwIfAborted();
    const isDir = stats.isDirectory();
    const ignored = ignore !== undefined && rel !== '' && ignore.matchesIn(rel, parentIgnore);
    const excluded = exclude !== undefined && sub !== '' && exclude.matchesIn(sub, parentExclude);
    if ((ignored || excluded) && !isDir) return;
    const entry: WalkEntry = { path: rel, sub, stats };
    if (!ignored && !excluded) keep(entry);
    if (!isDir) return;
    const ignoreHere = ignore !== undefined && rel !== '' ? ignore.enterDir(rel, parentIgnore) : parentIgnore;
    const excludeHere = exclude !== undefined && sub !== '' ? exclude.enterDir(sub, parentExclude) : parentExclude;
    if ((ignored && ignoreHere?.verdict === 'excluded-subtree') || (excluded && excludeHere?.verdict === 'excluded-subtree')) return;
    pending.push({ entry, yielded: !ignored && !excluded });
    try {
      const names = readdirSync(abs(rel)).sort(byteOrder);
      for (const name of names) {
        if (out.length >= BATCH) {
          yield out;
          out = [];
        }
        if (performance.now() - sliceStart >= SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          signal?.throwIfAborted();
          sliceStart = performance.now();
        }
        const childRel = rel === '' ? name : `${rel}/${name}`;
        const childSub = sub === '' ? name : `${sub}/${name}`;
        const childStats = lstatSyncOrUndefined(abs(childRel));
        if (childStats === undefined) continue; // removed while walking
        if (childStats.isDirectory()) {
          yield* visit(childRel, childSub, childStats, ignoreHere, excludeHere);
        } else if (
          !(ignore !== undefined && ignore.matchesIn(childRel, ignoreHere)) &&
          !(exclude !== undefined && exclude.matchesIn(childSub, excludeHere))
        ) {
          keep({ path: childRel, sub: childSub, stats: childStats });
        }
      }
    } finally {
      pending.pop();
    }
  }

  yield* visit(start, '', startStats, ignoreState, undefined);
  if (out.length > 0) yield out;
}
