/**
 * The host directory (or file) a `RUN --mount=type=bind` shows, set up in the builder's
 * private mount namespace for the runner to bind in place.
 *
 * A build context is seen as the build may see it: what its .dockerignore excludes is hidden
 * by overlay whiteouts in a small top lower dir, over the context directory as the next
 * lower dir (overlayfs never writes a lower dir). A `rw` bind adds an upper dir in the state
 * directory's scratch space, thrown away after the step: the step's writes never reach the
 * user's files, a stage's snapshot, or a later step. Nothing is copied: the cost is one walk
 * of the context's directories (only when something is excluded) and a mount or two.
 */
import { randomUUID } from 'node:crypto';
import { chmod, lchown, lutimes, mkdir, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { BuildError } from '../../errors/index.js';
import type { DirState, Matcher } from '../../frontend/dockerignore/index.js';
import {
  bindMount,
  fsPath,
  makeWhiteout,
  mountAt,
  overlayMount,
  readdirEntries,
  readonlyOverlayMount,
  unmount,
  type Mount,
} from '../../snapshotter/index.js';
import type { LocalContext } from './env.js';
import { hostPath, lstatOrUndefined, resolveInRoot } from './file/root-path.js';
import { SourceView } from './file/source-view.js';

/** A bind source made ready; `release` undoes what was set up (safe to call once, always). */
export interface BindSource {
  readonly source: string;
  release(): Promise<void>;
}

/** Where a bind's source is, once `sub` is resolved inside its root (symlinks followed inside it, never out). */
export async function resolveBindSource(
  root: string,
  sub: string,
  view?: SourceView,
): Promise<{ rel: string; abs: string; isDir: boolean }> {
  const rel = await resolveInRoot(root, sub, { followFinal: true, ...(view === undefined ? {} : { visible: view.visible }) });
  const abs = hostPath(root, rel);
  const st = await lstatOrUndefined(abs);
  if (st === undefined || (view !== undefined && !(await view.visible(rel, st.isDirectory())))) {
    throw new BuildError('MOUNT_FAILED', `mount source ${JSON.stringify(posix.join('/', sub))}: not found`, {
      hint: 'a bind mount source is a path in its build context, stage or image; check that .dockerignore does not leave it out',
    });
  }
  return { rel, abs, isDir: st.isDirectory() };
}

/**
 * A local build context's `sub` as a bind source: the directory itself when nothing in it is
 * excluded and the bind is read-only, else an overlay view of it (see the module comment).
 */
export async function bindLocalContext(
  ctx: LocalContext,
  sub: string,
  readonly: boolean,
  tmpDir: string,
  signal: AbortSignal,
): Promise<BindSource> {
  const view = new SourceView({ root: ctx.dir, ownership: 'reset', ...(ctx.ignore === undefined ? {} : { ignore: ctx.ignore }) });
  const { rel, abs, isDir } = await resolveBindSource(ctx.dir, sub, view);
  if (!isDir) {
    if (readonly) return { source: abs, release: async () => {} };
    // A file, writable: the overlay of its directory, of which only the file is shown.
    const slash = abs.lastIndexOf('/');
    const dir = await overlayView(abs.slice(0, slash), undefined, false, tmpDir);
    return { source: `${dir.source}/${abs.slice(slash + 1)}`, release: dir.release };
  }
  const hidden = ctx.ignore === undefined ? [] : await hiddenPaths(ctx.dir, rel, ctx.ignore, view, signal);
  if (readonly && hidden.length === 0) return { source: abs, release: async () => {} };
  return overlayView(abs, hidden.length === 0 ? undefined : { root: ctx.dir, start: rel, paths: hidden }, readonly, tmpDir);
}

/**
 * `dir` seen through an overlay mounted in a new directory below `tmpDir`: entries in `hide`
 * whited out; writable (into a throw-away upper dir) unless `readonly`.
 */
async function overlayView(
  dir: string,
  hide: { root: string; start: string; paths: readonly string[] } | undefined,
  readonly: boolean,
  tmpDir: string,
): Promise<BindSource> {
  const base = `${tmpDir}/bind-${randomUUID()}`;
  const mounted: string[] = [];
  const release = async () => {
    for (const m of mounted.splice(0).reverse()) unmount(m, { detach: true });
    await rm(base, { recursive: true, force: true });
  };
  try {
    await mkdir(base, { mode: 0o700 });
    // The lower dir at a short path of ours: mount options cannot carry ',' or ':' in a path.
    const lower = `${base}/lower`;
    await mkdir(lower);
    mountAt([bindMount(dir, true)], lower);
    mounted.push(lower);
    const lowers = [lower];
    if (hide !== undefined) {
      const wh = `${base}/wh`;
      await makeWhiteouts(wh, hide.root, hide.start, hide.paths);
      lowers.unshift(wh);
    }
    let mount: Mount;
    if (readonly) {
      mount = readonlyOverlayMount(lowers);
    } else {
      const upper = `${base}/upper`;
      const work = `${base}/work`;
      await mkdir(work);
      // The view's root is the upper dir: it shows the source directory's owner, mode and times.
      await mkdir(upper);
      await copyDirAttrs(dir, upper);
      mount = overlayMount(lowers, upper, work);
    }
    const target = `${base}/mnt`;
    await mkdir(target);
    mountAt([mount], target);
    mounted.push(target);
    return { source: target, release };
  } catch (e) {
    await release().catch(() => {});
    throw e;
  }
}

/**
 * The paths below `start` (root-relative) that `ignore` leaves out of the context, outermost
 * only: an excluded directory that an exception keeps something below is walked instead.
 */
export async function hiddenPaths(root: string, start: string, ignore: Matcher, view: SourceView, signal: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, state: DirState | undefined): Promise<void> => {
    signal.throwIfAborted();
    for (const e of readdirEntries(hostPath(root, dir))) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      const isDir = e.isDirectory();
      if (ignore.matchesIn(rel, state)) {
        if (!isDir || !(await view.visible(rel, true))) {
          out.push(rel);
          continue;
        }
      } else if (!isDir) {
        continue;
      }
      await walk(rel, ignore.enterDir(rel, state));
    }
  };
  await walk(start, view.dirState(start));
  return out;
}

/**
 * Whiteouts for `paths` (root-relative, below `start`) in a new directory `wh` that stands
 * for `start`: each directory on the way gets the owner, mode and times of the context
 * directory it stands for, since an overlay shows a directory's attributes from its top layer.
 */
async function makeWhiteouts(wh: string, root: string, start: string, paths: readonly string[]): Promise<void> {
  const made = new Map<string, string>([['', hostPath(root, start)]]);
  await mkdir(wh);
  const prefix = start === '' ? '' : `${start}/`;
  for (const p of paths) {
    const parts = p.slice(prefix.length).split('/');
    let at = '';
    for (const part of parts.slice(0, -1)) {
      at = at === '' ? part : `${at}/${part}`;
      if (made.has(at)) continue;
      await mkdir(fsPath(`${wh}/${at}`));
      made.set(at, hostPath(root, prefix + at));
    }
    makeWhiteout(`${wh}/${p.slice(prefix.length)}`);
  }
  // Attributes last, deepest first: making an entry changes its directory's times.
  for (const [at, from] of [...made].reverse()) await copyDirAttrs(from, at === '' ? wh : `${wh}/${at}`);
}

async function copyDirAttrs(from: string, to: string): Promise<void> {
  const st = await lstatOrUndefined(from);
  if (st === undefined) return;
  const path = fsPath(to);
  await lchown(path, Number(st.uid), Number(st.gid));
  await chmod(path, Number(st.mode) & 0o7777);
  const seconds = (ns: bigint) => Number(ns) / 1e9;
  await lutimes(path, seconds(st.atimeNs), seconds(st.mtimeNs));
}
