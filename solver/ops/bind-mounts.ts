/**
 * What a `RUN --mount=type=bind` shows, and where a mount's `source=` path lies inside its root.
 *
 * A bind of a local build context shows the selected path as BuildKit's context transfer
 * delivers it: owners reset to 0:0 (its client resets them before sending), what .dockerignore
 * excludes absent, the attributes a COPY from the context keeps. The path is copied once into
 * a snapshot of its own, named after its content checksum and modification times, and bound
 * like a stage's snapshot (a read-only view, or a throw-away layer on it for `rw`): the user's
 * files are only read, never bound, linked or written, and a later step or build that binds
 * the same content reuses the copy.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { BuildError } from '../../errors/index.js';
import { holdLock } from '../../content/index.js';
import type { SnapshotName } from '../../snapshotter/index.js';
import { contextXattrs, type LocalContext } from './env.js';
import { Copier } from './file/copier.js';
import { hostPath, lstatOrUndefined, resolveInRoot } from './file/root-path.js';
import { SourceView } from './file/source-view.js';
import { changeSnapshot } from './mounted.js';
import { readRecord, snapshotExists, writeRecord } from './records.js';
import type { State } from './state.js';

/**
 * Where `sub` lies inside `root`: symlinks followed inside it, never out (an absolute target
 * restarts from `root`); an entry `view` hides counts as missing. Fails with MOUNT_FAILED when
 * nothing is there.
 */
export async function resolveMountSource(
  root: string,
  sub: string,
  opts: { readonly view?: SourceView; readonly what?: string; readonly hint?: string } = {},
): Promise<{ rel: string; abs: string; isDir: boolean }> {
  const { view } = opts;
  const rel = await resolveInRoot(root, sub, { followFinal: true, ...(view === undefined ? {} : { visible: view.visible }) });
  const abs = hostPath(root, rel);
  const st = await lstatOrUndefined(abs);
  if (st === undefined || (view !== undefined && !(await view.visible(rel, st.isDirectory())))) {
    throw new BuildError('MOUNT_FAILED', `${opts.what ?? 'mount source'} ${JSON.stringify(posix.join('/', sub))}: not found`, {
      hint: opts.hint ?? 'a bind mount source is a path in its build context, stage or image; check that .dockerignore does not leave it out',
    });
  }
  return { rel, abs, isDir: st.isDirectory() };
}

/** Where a context snapshot holds the bound path (a directory or a file). */
export const CONTEXT_BIND_PATH = '/content';

/**
 * A committed snapshot holding `sub` of a local build context at CONTEXT_BIND_PATH, as the
 * module comment says. Made at most once per content and times (concurrent builds wait for
 * each other's copy), and recorded only when the context did not change while it was copied.
 */
export async function contextSnapshot(state: State, ctx: LocalContext, sub: string, signal: AbortSignal): Promise<SnapshotName> {
  const view = new SourceView({ root: ctx.dir, ownership: 'reset', ...(ctx.ignore === undefined ? {} : { ignore: ctx.ignore }) });
  const { rel, isDir } = await resolveMountSource(ctx.dir, sub, { view });
  const { checksumPathsAndTimes } = await import('./context/index.js');
  const statCache = ctx.statCache === undefined ? undefined : await ctx.statCache();
  const identify = async () => {
    const { sum, mtimes } = await checksumPathsAndTimes(ctx.dir, [`/${rel}`], {
      followLinks: true,
      xattrs: contextXattrs,
      ...(ctx.ignore === undefined ? {} : { matcher: ctx.ignore }),
      ...(statCache === undefined ? {} : { statCache }),
      signal,
    });
    // Owners are all 0:0 and the path's name is in the checksum: content and times tell the rest.
    return `context-bind\0${sum}\0${mtimes}`;
  };
  const key = await identify();
  const known = async () => {
    const rec = await readRecord<{ snapshot: SnapshotName }>(state.cacheDir, key);
    return rec !== undefined && (await snapshotExists(state.snapshots, rec.snapshot)) ? rec.snapshot : undefined;
  };
  const found = await known();
  if (found !== undefined) return found;
  const lock = await holdLock(`${state.cacheDir}/${createHash('sha256').update(key).digest('hex')}.lock`, { signal });
  try {
    const madeMeanwhile = await known();
    if (madeMeanwhile !== undefined) return madeMeanwhile;
    const copier = new Copier({ view, xattrs: contextXattrs, signal });
    const snapshot = await changeSnapshot(state, null, async (root, upper) => {
      // A directory goes straight into the new snapshot's upper dir: no lower dir is below it.
      if (isDir) upper.defer(() => copier.copyTop(rel, `${upper.upperDir}${CONTEXT_BIND_PATH}`));
      else await copier.copyTop(rel, `${root}${CONTEXT_BIND_PATH}`);
    });
    if ((await identify()) === key) await writeRecord(state.cacheDir, key, { snapshot });
    return snapshot;
  } finally {
    await lock.release();
  }
}
