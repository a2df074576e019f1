/** The content store: verified blobs by digest, atomic ingest, leases; digest helpers. */
export { asDigest, isDigest, digestHex, digestAlgorithm, sha256Of, DigestTap, type Digest, type DigestAlgorithm } from './digest.js';
export type {
  BlobInfo, BlobSources, BlobWriter, ContentIngester, ContentManager, ContentProvider, ContentStore, Descriptor,
  DescriptorPlatform, ExpectedContent, IngestManager, IngestStatus, ReadOptions,
} from './types.js';
export { openContentStore, DEFAULT_INGEST_GRACE_MS, DEFAULT_READ_LIMIT, type OpenContentStoreOptions } from './store.js';
export { createLease, readLiveLeases, type Lease, type LeaseContent, type LiveLeases } from './lease.js';
export { ContentError, isContentError, errnoCode, type ContentErrorReason } from './errors.js';
export { writeFileAtomic, writeFileAtomicSync, fsyncDir, tempPathFor, removeOwnTempPathsSync, isPidAlive } from './fsutil.js';
export { compressor, decompressor, programStream, type Compression, type ProgramErrors } from './codecs.js';
