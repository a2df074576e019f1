/**
 * Performing mounts given as data (a snapshotter's, or the ops' own tmpfs and binds), through
 * the native addon. Here because the ops are what mounts: the snapshotter only describes.
 *
 * Callers must run inside their own private mount namespace (the builder re-executes itself
 * under `unshare -m --propagation private`, the runner unshares before mounting): a mount made
 * there dies with the namespace, so a crash never leaves one on the host. These helpers do not
 * check that; mounting from the host's namespace works but leaks on a crash.
 */
import { rmSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import {
  MNT_DETACH,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  isNativeError,
  native,
} from '../../native/index.js';
import { FLAG_OPTIONS, SnapshotError, VOLATILE_OPTION, mountData, renderForMount, volatileMark, writableOverlay, type Mount } from '../../snapshotter/index.js';

const FLAG_BITS: Readonly<Record<string, number>> = {
  ro: MS_RDONLY,
  rw: 0,
  bind: MS_BIND,
  rbind: MS_BIND | MS_REC,
  nosuid: MS_NOSUID,
  suid: 0,
  nodev: MS_NODEV,
  dev: 0,
  noexec: MS_NOEXEC,
  exec: 0,
  noatime: MS_NOATIME,
  nodiratime: MS_NODIRATIME,
  relatime: MS_RELATIME,
};

function flagsOf(mount: Mount): number {
  let flags = 0;
  for (const o of mount.options) if (FLAG_OPTIONS.has(o)) flags |= FLAG_BITS[o] ?? 0;
  if (mount.type === 'bind') flags |= MS_BIND;
  return flags;
}

/** Set once the kernel has refused overlayfs's `volatile` option (before Linux 5.10). */
let volatileRefused = false;

const withoutVolatile = (m: Mount): Mount => ({ ...m, options: m.options.filter((o) => o !== VOLATILE_OPTION) });

function mountOne(mount: Mount, target: string): void {
  const addon = native();
  const flags = flagsOf(mount);
  try {
    if (flags & MS_BIND) {
      addon.mount(mount.source, target, null, flags & (MS_BIND | MS_REC), null);
      // A bind ignores every other flag until it is remounted with them.
      const rest = flags & ~(MS_BIND | MS_REC);
      if (rest !== 0) {
        try {
          addon.mount(null, target, null, MS_REMOUNT | MS_BIND | rest, null);
        } catch (e) {
          addon.umount2(target, MNT_DETACH);
          throw e;
        }
      }
      return;
    }
    const volatile = mount.type === 'overlay' && mount.options.includes(VOLATILE_OPTION);
    // Only a volatile mount leaves the mark, and only a writable overlay is volatile.
    if (volatile) rmSync(volatileMark(writableOverlay([mount]).work), { recursive: true, force: true });
    const { mount: rendered, cwd } = renderForMount(volatile && volatileRefused ? withoutVolatile(mount) : mount);
    try {
      addon.mount(rendered.source, target, rendered.type, flags, mountData(rendered), cwd ?? null);
    } catch (e) {
      // A kernel before 5.10 refuses the option; the mount works without it (and later ones
      // are made without it at once).
      if (!isNativeError(e, 'EINVAL') || !rendered.options.includes(VOLATILE_OPTION)) throw e;
      volatileRefused = true;
      const plain = withoutVolatile(rendered);
      addon.mount(plain.source, target, plain.type, flags, mountData(plain), cwd ?? null);
    }
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new SnapshotError('MOUNT', `mounting ${mount.type} ${mount.source} on ${target}: ${why}`, { cause: e });
  }
}

/** Mounts each of `mounts` on `target` in order; on a failure, undoes the ones already made. */
export function mountAt(mounts: readonly Mount[], target: string): void {
  if (!isAbsolute(target)) throw new SnapshotError('MOUNT', `mount target must be absolute: ${target}`);
  let done = 0;
  try {
    for (const m of mounts) {
      mountOne(m, target);
      done++;
    }
  } catch (e) {
    for (; done > 0; done--) native().umount2(target, MNT_DETACH);
    throw e;
  }
}

/**
 * Unmounts everything stacked on `target` (a no-op when nothing is). With `detach`, busy mounts
 * are detached lazily instead of failing with EBUSY.
 */
export function unmount(target: string, opts: { readonly detach?: boolean } = {}): void {
  const addon = native();
  for (;;) {
    try {
      addon.umount2(target, opts.detach === true ? MNT_DETACH : 0);
    } catch (e) {
      if (isNativeError(e, 'EINVAL')) return; // not (or no longer) a mount point
      const why = e instanceof Error ? e.message : String(e);
      throw new SnapshotError('MOUNT', `unmounting ${target}: ${why}`, { cause: e });
    }
  }
}
