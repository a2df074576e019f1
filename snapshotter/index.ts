// snapshotter/: the folder's whole public surface.
export type {
  ActiveKey,
  Mount,
  SnapshotInfo,
  SnapshotKind,
  SnapshotName,
  Snapshotter,
  Usage,
} from './types.js';
export { asActiveKey, asSnapshotName } from './types.js';
export { openOverlaySnapshotter, type OverlaySnapshotter } from './overlay.js';
export { SnapshotError, isSnapshotError, type SnapshotErrorReason } from './errors.js';
export {
  MAX_MOUNT_DATA,
  bindMount,
  commonDir,
  fitsMountData,
  mountData,
  relativeTo,
  renderForMount,
} from './mount-options.js';
export { mountAt, unmount } from './mount.js';
export { diffTar, diffID, diffDigest, type DiffOptions } from './diff.js';
export { applyTar, type ApplyResult } from './apply.js';
export { fileXattrs, type FileXattrs } from './xattr-io.js';
