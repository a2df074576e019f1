/**
 * Mounts as data: building the overlay and bind mounts the snapshotter hands out, and rendering
 * an overlay mount with paths relative to a directory when its options would not fit in the one
 * page the kernel copies for mount(2)'s data. Performing them is the job of whoever mounts
 * (solver/ops/mount.ts, the runner for a RUN step's root).
 */
import { isAbsolute, join, relative, sep } from 'node:path';
import { SnapshotError } from './errors.js';
import type { Mount } from './types.js';

/**
 * mount(2) copies at most one page of option data, NUL included. 4 KiB is the smallest page
 * size Linux runs with on x86-64 and arm64, so this limit is safe everywhere.
 */
export const MAX_MOUNT_DATA = 4095;

/**
 * Overlay options that keep the upper dir a faithful diff: no directory renames recorded as
 * redirects, no metadata-only copy-ups, no hard-link index.
 */
export const FAITHFUL_OVERLAY_OPTIONS: readonly string[] = ['index=off', 'redirect_dir=off', 'metacopy=off'];

/** Characters the legacy mount data format cannot carry in an overlay path. */
const UNSAFE_PATH_CHARS = /[,:\\\n]/;

export function checkMountablePath(path: string): void {
  if (!isAbsolute(path) || UNSAFE_PATH_CHARS.test(path)) {
    throw new SnapshotError(
      'MOUNT',
      `path ${JSON.stringify(path)} cannot be used in mount options: it must be absolute and contain no ',' ':' or '\\'`,
    );
  }
}

/**
 * A writable overlay's option that spares the whole file system a sync at unmount (Linux 5.10;
 * whoever mounts retries without it where the kernel refuses it). Snapshot contents are never
 * synced otherwise: unpacked layers are not, a killed builder loses nothing in the page cache,
 * and an active snapshot left by a crash is thrown away.
 */
export const VOLATILE_OPTION = 'volatile';

/**
 * Where a volatile mount leaves its mark in `work`: overlayfs refuses to mount that work dir
 * again while it is there, so whoever mounts a snapshot again removes it first.
 */
export function volatileMark(work: string): string {
  return join(work, 'work', 'incompat', 'volatile');
}

/** A writable overlay: `lowers` topmost first. */
export function overlayMount(lowers: readonly string[], upper: string, work: string): Mount {
  if (lowers.length === 0) throw new SnapshotError('MOUNT', 'an overlay needs at least one lower dir');
  for (const p of [...lowers, upper, work]) checkMountablePath(p);
  return {
    type: 'overlay',
    source: 'overlay',
    options: [...FAITHFUL_OVERLAY_OPTIONS, VOLATILE_OPTION, `workdir=${work}`, `upperdir=${upper}`, `lowerdir=${lowers.join(':')}`],
  };
}

/** A read-only overlay of two or more lower dirs (one lower dir is mounted as a bind instead). */
export function readonlyOverlayMount(lowers: readonly string[]): Mount {
  if (lowers.length < 2) throw new SnapshotError('MOUNT', 'a read-only overlay needs at least two lower dirs');
  for (const p of lowers) checkMountablePath(p);
  return { type: 'overlay', source: 'overlay', options: ['ro', ...FAITHFUL_OVERLAY_OPTIONS, `lowerdir=${lowers.join(':')}`] };
}

export function bindMount(dir: string, readonly: boolean): Mount {
  return { type: 'bind', source: dir, options: [readonly ? 'ro' : 'rw', 'rbind'] };
}

/** Options that are mount flags rather than filesystem data. */
export const FLAG_OPTIONS: ReadonlySet<string> = new Set([
  'ro', 'rw', 'bind', 'rbind', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec',
  'noatime', 'nodiratime', 'relatime',
]);

/** The data string mount(2) would receive for this mount (flag options excluded). */
export function mountData(mount: Mount): string {
  return mount.options.filter((o) => !FLAG_OPTIONS.has(o)).join(',');
}

export function fitsMountData(mount: Mount): boolean {
  return Buffer.byteLength(mountData(mount)) <= MAX_MOUNT_DATA;
}

const PATH_OPTIONS = ['lowerdir=', 'upperdir=', 'workdir='] as const;

/** Every directory an overlay mount's options name. */
function overlayPaths(mount: Mount): string[] {
  const paths: string[] = [];
  for (const option of mount.options) {
    const prefix = PATH_OPTIONS.find((p) => option.startsWith(p));
    if (prefix === undefined) continue;
    const value = option.slice(prefix.length);
    paths.push(...(prefix === 'lowerdir=' ? value.split(':') : [value]));
  }
  return paths;
}

/** The deepest directory containing every path an overlay mount names: the best cwd for relativeTo. */
export function commonDir(mount: Mount): string {
  const paths = overlayPaths(mount);
  if (paths.length === 0) throw new SnapshotError('MOUNT', 'mount names no directories');
  let common = paths[0]!.split(sep);
  for (const p of paths.slice(1)) {
    const parts = p.split(sep);
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  // Paths are directories themselves; the common dir must be a parent of each, not one of them.
  const dir = common.join(sep) || sep;
  return paths.includes(dir) ? dir.slice(0, dir.lastIndexOf(sep)) || sep : dir;
}

/**
 * The same overlay mount with lowerdir/upperdir/workdir relative to `cwd`, for a caller that
 * mounts from inside `cwd` (the runner chdirs, mountAt passes cwd to the addon). Throws when
 * even the relative form does not fit.
 */
export function relativeTo(mount: Mount, cwd: string): Mount {
  const rel = (p: string): string => {
    const r = relative(cwd, p);
    if (r === '' || r.startsWith('..') || isAbsolute(r)) {
      throw new SnapshotError('MOUNT', `${p} is not inside ${cwd}`);
    }
    return r;
  };
  const options = mount.options.map((option) => {
    const prefix = PATH_OPTIONS.find((p) => option.startsWith(p));
    if (prefix === undefined) return option;
    const value = option.slice(prefix.length);
    return prefix + (prefix === 'lowerdir=' ? value.split(':').map(rel).join(':') : rel(value));
  });
  const result: Mount = { type: mount.type, source: mount.source, options };
  if (!fitsMountData(result)) {
    throw new SnapshotError(
      'MOUNT',
      `overlay options are ${Buffer.byteLength(mountData(result))} bytes even relative to ${cwd}; the limit is ${MAX_MOUNT_DATA}`,
    );
  }
  return result;
}

/**
 * The mount as it can be performed: unchanged when its options fit, else relative to the
 * directory all its paths share, with that directory as the cwd to mount from.
 */
export function renderForMount(mount: Mount): { readonly mount: Mount; readonly cwd?: string } {
  if (fitsMountData(mount)) return { mount };
  if (mount.type !== 'overlay') {
    throw new SnapshotError('MOUNT', `${mount.type} mount options exceed ${MAX_MOUNT_DATA} bytes`);
  }
  const cwd = commonDir(mount);
  return { mount: relativeTo(mount, cwd), cwd };
}
