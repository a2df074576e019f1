// tarfs/: the folder's whole public surface. The tar codec (a byte-exact writer's headers and a
// streaming reader), names as their exact bytes, and the batched directory scan: what layers,
// exports and context checksums read and write, knowing nothing of snapshots or overlayfs.
export { TarError, isTarError, type TarErrorReason } from './errors.js';
export { readTar, type TarReadEntry, type TarReadHeader, type TarReadType } from './tar-reader.js';
export { BLOCK, END_OF_ARCHIVE, encodeHeader, padding, type TarEntryType, type TarHeader } from './tar-format.js';
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
