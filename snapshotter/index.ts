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
export { readTar, type TarReadEntry, type TarReadHeader } from './tar-reader.js';
export { END_OF_ARCHIVE, encodeHeader, padding, type TarEntryType, type TarHeader } from './tar-format.js';
export { fileXattrs, type FileXattrs } from './xattr-io.js';
export {
  byteOrder,
  fsPath,
  isPlainName,
  nameBytes,
  nameFromBytes,
  readdirEntries,
  readdirNames,
  readlinkName,
  type DirEntry,
} from './byte-names.js';
export {
  scanDir,
  DirScanner,
  type DirScan,
  SCAN_FIELDS,
  SCAN_BY_PATH,
  F_MODE,
  F_UID,
  F_GID,
  F_SIZE,
  F_MTIME_SEC,
  F_MTIME_NSEC,
  F_CTIME_SEC,
  F_CTIME_NSEC,
  F_INO_HI,
  F_INO_LO,
  F_RDEV_HI,
  F_RDEV_LO,
  F_FLAGS,
} from './dir-scan.js';
