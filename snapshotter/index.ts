// snapshotter/: the folder's whole public surface.
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
export { openOverlaySnapshotter, writableOverlay, type OverlayLayers, type OverlaySnapshotter } from './overlay.js';
export { SnapshotError, isSnapshotError, type SnapshotErrorReason } from './errors.js';
// Mounts as data, and how mount(2) takes them: the ops perform them (solver/ops/mount.ts).
export { FLAG_OPTIONS, bindMount, fitsMountData, mountData, renderForMount } from './mount-options.js';
export { diffTar, diffID, diffDigest, type DiffOptions } from './diff.js';
export { applyTar, type ApplyResult } from './apply.js';
export { fileXattrs, type FileXattrs } from './xattr-io.js';
