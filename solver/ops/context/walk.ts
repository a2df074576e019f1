/**
 * Walking a directory as BuildKit's context transfer sees it: names in byte order, parents
 * before children, `.dockerignore`d entries left out (whole subtrees skipped when the
 * matcher says nothing below can come back), and an excluded directory yielded only when
 * something below it is kept, just before that first kept entry.
 */
import type { DirState, Matcher } from '../../../frontend/dockerignore/index.js';
import { DirScanner, F_FLAGS, F_MODE, SCAN_BY_PATH, SCAN_FIELDS } from '../../../snapshotter/index.js';
import { lstatOrUndefined, lstatSyncOrUndefined } from '../file/root-path.js';
import { byteOrder } from '../file/wildcards.js';
import { EntryStat } from './entry-stat.js';

export interface WalkEntry {
  /** Path relative to the walked root, slash-separated, never empty. */
  readonly path: string;
  /** Path relative to the walk's start ('' for the start itself). */
  readonly sub: string;
  readonly stats: EntryStat;
  /** Host path of the directory holding it (one string shared by its siblings). */
  readonly dir: string;
  /** Its name in `dir`. */
  readonly name: string;
}

export interface WalkOptions {
  /** .dockerignore, matched against root-relative paths. */
  readonly ignore?: Matcher;
  /** COPY --exclude, matched against start-relative paths. */
  readonly exclude?: Matcher;
  readonly signal?: AbortSignal;
}

/**
 * The walk reads each directory with every entry's lstat in one call (a directory scan). A
 * walk of an unchanged context is little but these reads (an lstat costs a microsecond or
 * two on a cached tree), so libuv's thread pool makes them up to SCAN_AHEAD directories
 * ahead, beside the walk's own work; the walk takes each synchronously (see DirScanner). It
 * lets the event loop run whenever it has run SLICE_MS (checked every SLICE_CHECK entries).
 */
const SCAN_AHEAD = 8;
const SLICE_MS = 8;
const SLICE_CHECK = 64;

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

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

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
  const startLstat = await lstatOrUndefined(abs(start));
  if (startLstat === undefined) return;
  const startStats = EntryStat.of(startLstat);
  const startAbs = abs(start);
  const startSlash = startAbs.lastIndexOf('/');
  let sliceStart = performance.now();
  let untilCheck = SLICE_CHECK;
  const scans = new DirScanner(SCAN_AHEAD);

  /** An entry is kept: the excluded directories above it that were held back come first. */
  const keep = (entry: WalkEntry): void => {
    for (const p of pending) {
      if (!p.yielded && p.entry.path !== '') out.push(p.entry);
      p.yielded = true;
    }
    if (entry.path !== '') out.push(entry);
  };

  /** A directory being walked: its entries in walk order, from `next` on. */
  interface Listing {
    readonly rel: string;
    readonly sub: string;
    /** Host path. */
    readonly dir: string;
    readonly ignore: DirState | undefined;
    readonly exclude: DirState | undefined;
    readonly names: readonly string[];
    readonly fields: Float64Array;
    /** Indices into names in walk order; undefined: in the order of names. */
    readonly order: readonly number[] | undefined;
    next: number;
  }

  /**
   * Keeps the listing's entries from `next` on that are not directories (a plain function
   * over a whole directory, which V8 optimizes early, where a generator's loop would wait).
   * Stops at a directory, returning its stats with `next` at it; at a full batch; when the
   * time slice is due for a check; or at the end.
   */
  function keepFiles(l: Listing): EntryStat | undefined {
    const { names, fields, order, rel, sub, dir } = l;
    let k = l.next;
    try {
      for (; k < names.length; k++) {
        if (out.length >= BATCH || untilCheck <= 0) return undefined;
        untilCheck--;
        const i = order === undefined ? k : order[k]!;
        const name = names[i]!;
        let stats: EntryStat;
        if (fields[i * SCAN_FIELDS + F_FLAGS] === SCAN_BY_PATH) {
          const st = lstatSyncOrUndefined(`${dir}/${name}`);
          if (st === undefined) continue; // removed while walking, or a lossy name
          stats = EntryStat.of(st);
        } else {
          stats = new EntryStat(fields, i * SCAN_FIELDS);
        }
        if (stats.isDirectory()) return stats;
        const childRel = rel === '' ? name : `${rel}/${name}`;
        const childSub = sub === rel ? childRel : sub === '' ? name : `${sub}/${name}`;
        if (ignore !== undefined && ignore.matchesIn(childRel, l.ignore)) continue;
        if (exclude !== undefined && exclude.matchesIn(childSub, l.exclude)) continue;
        keep({ path: childRel, sub: childSub, stats, dir, name });
      }
      return undefined;
    } finally {
      l.next = k;
    }
  }

  async function* visit(
    rel: string,
    sub: string,
    stats: EntryStat,
    parent: string,
    name: string,
    parentIgnore?: DirState,
    parentExclude?: DirState,
  ): AsyncGenerator<WalkEntry[]> {
    signal?.throwIfAborted();
    const isDir = stats.isDirectory();
    const ignored = ignore !== undefined && rel !== '' && ignore.matchesIn(rel, parentIgnore);
    const excluded = exclude !== undefined && sub !== '' && exclude.matchesIn(sub, parentExclude);
    if ((ignored || excluded) && !isDir) return;
    const entry: WalkEntry = { path: rel, sub, stats, dir: parent, name };
    if (!ignored && !excluded) keep(entry);
    if (!isDir) return;
    const ignoreHere = ignore !== undefined && rel !== '' ? ignore.enterDir(rel, parentIgnore) : parentIgnore;
    const excludeHere = exclude !== undefined && sub !== '' ? exclude.enterDir(sub, parentExclude) : parentExclude;
    if ((ignored && ignoreHere?.verdict === 'excluded-subtree') || (excluded && excludeHere?.verdict === 'excluded-subtree')) return;
    pending.push({ entry, yielded: !ignored && !excluded });
    try {
      const dir = abs(rel);
      const { names, fields, byPath } = scans.take(dir);
      // The subdirectories it will visit (all but those left out), to read ahead.
      const subdirs: string[] = [];
      for (let i = 0; i < names.length; i++) {
        if ((fields[i * SCAN_FIELDS + F_MODE]! & S_IFMT) !== S_IFDIR || fields[i * SCAN_FIELDS + F_FLAGS] === SCAN_BY_PATH) continue;
        const name = names[i]!;
        if (ignore !== undefined && ignore.matchesIn(rel === '' ? name : `${rel}/${name}`, ignoreHere)) continue;
        if (exclude !== undefined && exclude.matchesIn(sub === '' ? name : `${sub}/${name}`, excludeHere)) continue;
        subdirs.push(`${dir}/${name}`);
      }
      scans.expect(subdirs);
      // Names come sorted by their bytes; one that is not UTF-8 is known by a lossy string,
      // and the order is that of the strings the walk has (as it was when read by path).
      const order = byPath ? names.map((_, i) => i).sort((a, b) => byteOrder(names[a]!, names[b]!)) : undefined;
      const listing: Listing = { rel, sub, dir, ignore: ignoreHere, exclude: excludeHere, names, fields, order, next: 0 };
      while (listing.next < names.length) {
        const subdir = keepFiles(listing);
        if (out.length >= BATCH) {
          yield out;
          out = [];
        }
        if (untilCheck <= 0) {
          untilCheck = SLICE_CHECK;
          if (performance.now() - sliceStart >= SLICE_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            signal?.throwIfAborted();
            sliceStart = performance.now();
          }
        }
        if (subdir !== undefined) {
          const name = names[order === undefined ? listing.next : order[listing.next]!]!;
          const childRel = rel === '' ? name : `${rel}/${name}`;
          const childSub = sub === rel ? childRel : sub === '' ? name : `${sub}/${name}`;
          listing.next++;
          yield* visit(childRel, childSub, subdir, dir, name, ignoreHere, excludeHere);
        }
      }
    } finally {
      pending.pop();
    }
  }

  try {
    yield* visit(start, '', startStats, startAbs.slice(0, startSlash), startAbs.slice(startSlash + 1), ignoreState, undefined);
  } finally {
    scans.close();
  }
  if (out.length > 0) yield out;
}
