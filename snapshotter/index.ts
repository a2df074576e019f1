// snapshotter/: the folder's whole public surface.
// - Snapshotter: containerd's surface (prepare, view, mounts, commit, remove, stat, walk, usage),
//   snapshots handed out as mounts (data). What callers should depend on.
// - The overlay snapshotter (openOverlaySnapshotter) also offers SnapshotDirectories, and
//   writableOverlay() reads an active snapshot's directories back from its mounts: for runners
//   and writers that work on overlayfs' directories themselves.
// - diffTar/applyTar stay here rather than in tarfs/: they translate between a layer tar and
//   overlayfs' own format (0:0 whiteouts, the opaque xattr), which is this snapshotter's layout.
// - Mounts as data and how mount(2) takes them; performing mounts is the ops' job
//   (solver/ops/mount.ts).
export type {
  ActiveKey,
  Mount,
  SnapshotInfo,
  SnapshotKind,
  SnapshotDirectories,
  SnapshotName,
  Snapshotter,
  Usage,
} from './types.js';
export { asActiveKey, asSnapshotName } from './types.js';
export { openOverlaySnapshotter, writableOverlay, type OverlayLayers } from './overlay.js';
export { SnapshotError, isSnapshotError, type SnapshotErrorReason } from './errors.js';
// Mounts as data, and how mount(2) takes them: the ops perform them (solver/ops/mount.ts).
export { FLAG_OPTIONS, VOLATILE_OPTION, bindMount, fitsMountData, mountData, renderForMount, volatileMark } from './mount-options.js';
export { diffTar, diffID, diffDigest, type DiffOptions } from './diff.js';
export { applyTar, type ApplyResult } from './apply.js';
export { fileXattrs, type FileXattrs } from './xattr-io.js';
