/** The content store: verified blobs by digest, atomic ingest, leases; digest helpers. */
export { asDigest, sha256Of, DigestTap } from './digest.js';
// The store speaks OCI's digests and descriptors (oci/ defines them); re-exported so that its
// callers need one import.
export { isDigest, digestHex, digestAlgorithm, type Digest, type DigestAlgorithm, type Descriptor } from '../oci/index.js';
export type {
  BlobInfo, BlobSources, BlobWriter, ContentIngester, ContentManager, ContentProvider, ContentStore,
  ExpectedContent, IngestManager, IngestStatus, ReadOptions,
} from './types.js';
export { openContentStore, DEFAULT_INGEST_GRACE_MS, DEFAULT_READ_LIMIT, type OpenContentStoreOptions } from './store.js';
export { holdLock, tryLock, withLock, type HeldLock, type LockOptions } from './lock.js';
export { createLease, readLiveLeases, type Lease, type LeaseContent, type LiveLeases } from './lease.js';
export { ContentError, isContentError, errnoCode, type ContentErrorReason } from './errors.js';
export { writeFileAtomic, writeFileAtomicSync, fsyncDir, tempPathFor, removeOwnTempPathsSync, removeStaleTempPaths, isPidAlive } from './fsutil.js';
export { compressor, decompressor, programStream, type Compression, type ProgramErrors } from './codecs.js';
