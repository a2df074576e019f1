/**
 * Walking a directory as BuildKit's context transfer sees it: names in byte order, parents
 * before children, `.dockerignore`d entries left out (whole subtrees skipped when the
 * matcher says nothing below can come back), and an excluded directory yielded only when
 * something below it is kept, just before that first kept entry. A name that is not UTF-8 is
 * byte-escaped in paths and names (tarfs/byte-names.ts): .dockerignore and --exclude
 * patterns see each such byte as one character, as Go's matchers see it as one rune.
 */
import type { MatcherDir, PathMatcher } from '../path-matcher.js';
import { DirScanner, F_FLAGS, F_MODE, SCAN_BY_PATH, SCAN_FIELDS } from '../../../tarfs/index.js';
import { lstatOrUndefined, lstatSyncOrUndefined } from '../file/root-path.js';
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
  readonly ignore?: PathMatcher;
  /** COPY --exclude, matched against start-relative paths. */
  readonly exclude?: PathMatcher;
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
export function walkContext(contextDir: string, matcher?: PathMatcher, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
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

  let ignoreState: MatcherDir | undefined;
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
    readonly ignore: MatcherDir | undefined;
    readonly exclude: MatcherDir | undefined;
    readonly names: readonly string[];
    readonly fields: Float64Array;
    next: number;
  }

  /**
   * Keeps the listing's entries from `next` on that are not directories. Stops at a
   * directory, returning its stats with `next` at it; at a full batch; when the time slice
   * is due for a check; or at the end. (The per-entry work is in plain functions, which V8
   * optimizes early and cheaply; the generator's own loop runs once per stop.)
   */
  function keepFiles(l: Listing): EntryStat | undefined {
    const { names, fields, rel, sub, dir } = l;
    let k = l.next;
    try {
      for (; k < names.length; k++) {
        if (out.length >= BATCH || untilCheck <= 0) return undefined;
        untilCheck--;
        const name = names[k]!;
        let stats: EntryStat;
        if (fields[k * SCAN_FIELDS + F_FLAGS] === SCAN_BY_PATH) {
          const st = lstatSyncOrUndefined(`${dir}/${name}`);
          if (st === undefined) continue; // removed while walking
          stats = EntryStat.of(st);
        } else {
          stats = new EntryStat(fields, k * SCAN_FIELDS);
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

  /** Host paths of the subdirectories the walk will visit (all but those left out), to read ahead. */
  function subdirsToVisit(
    rel: string,
    sub: string,
    dir: string,
    names: readonly string[],
    fields: Float64Array,
    ignoreHere: MatcherDir | undefined,
    excludeHere: MatcherDir | undefined,
  ): string[] {
    const subdirs: string[] = [];
    for (let i = 0; i < names.length; i++) {
      if ((fields[i * SCAN_FIELDS + F_MODE]! & S_IFMT) !== S_IFDIR || fields[i * SCAN_FIELDS + F_FLAGS] === SCAN_BY_PATH) continue;
      const name = names[i]!;
      if (ignore !== undefined && ignore.matchesIn(rel === '' ? name : `${rel}/${name}`, ignoreHere)) continue;
      if (exclude !== undefined && exclude.matchesIn(sub === '' ? name : `${sub}/${name}`, excludeHere)) continue;
      subdirs.push(`${dir}/${name}`);
    }
    return subdirs;
  }

  /**
   * An entry met by the walk (the start, or a directory in a listing): kept unless left out,
   * and for a directory to walk into, its listing (its scan taken, its subdirectories
   * expected); pending then holds it until the listing is done.
   */
  function enter(
    rel: string,
    sub: string,
    stats: EntryStat,
    parent: string,
    name: string,
    parentIgnore: MatcherDir | undefined,
    parentExclude: MatcherDir | undefined,
  ): Listing | undefined {
    signal?.throwIfAborted();
    const isDir = stats.isDirectory();
    const ignored = ignore !== undefined && rel !== '' && ignore.matchesIn(rel, parentIgnore);
    const excluded = exclude !== undefined && sub !== '' && exclude.matchesIn(sub, parentExclude);
    if ((ignored || excluded) && !isDir) return undefined;
    const entry: WalkEntry = { path: rel, sub, stats, dir: parent, name };
    if (!ignored && !excluded) keep(entry);
    if (!isDir) return undefined;
    const ignoreHere = ignore !== undefined && rel !== '' ? ignore.enterDir(rel, parentIgnore) : parentIgnore;
    const excludeHere = exclude !== undefined && sub !== '' ? exclude.enterDir(sub, parentExclude) : parentExclude;
    if ((ignored && ignoreHere?.verdict === 'excluded-subtree') || (excluded && excludeHere?.verdict === 'excluded-subtree')) return undefined;
    const dir = abs(rel);
    // Names come sorted by their bytes: the walk's order.
    const { names, fields, dirs } = scans.take(dir);
    if (dirs > 0) scans.expect(subdirsToVisit(rel, sub, dir, names, fields, ignoreHere, excludeHere));
    pending.push({ entry, yielded: !ignored && !excluded });
    return { rel, sub, dir, ignore: ignoreHere, exclude: excludeHere, names, fields, next: 0 };
  }

  // Depth first, with a stack of listings rather than nested generators: a batch is then
  // yielded once, not once per level, and the one loop below stays small.
  const stack: Listing[] = [];
  try {
    const first = enter(start, '', startStats, startAbs.slice(0, startSlash), startAbs.slice(startSlash + 1), ignoreState, undefined);
    if (first !== undefined) stack.push(first);
    while (stack.length > 0) {
      const l = stack[stack.length - 1]!;
      if (l.next >= l.names.length) {
        stack.pop();
        pending.pop();
        continue;
      }
      const subdir = keepFiles(l);
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
        const name = l.names[l.next]!;
        const childRel = l.rel === '' ? name : `${l.rel}/${name}`;
        const childSub = l.sub === l.rel ? childRel : l.sub === '' ? name : `${l.sub}/${name}`;
        l.next++;
        const child = enter(childRel, childSub, subdir, l.dir, name, l.ignore, l.exclude);
        if (child !== undefined) stack.push(child);
      }
    }
  } finally {
    scans.close();
  }
  if (out.length > 0) yield out;
}
