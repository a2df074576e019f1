import { BuildError, type ErrorCode } from '../errors/index.js';

/**
 * Why a snapshot operation failed, for callers that branch on it (never on the message).
 * - NOT_FOUND: no snapshot under that key or name
 * - ALREADY_EXISTS: the key or name is taken (committed names are immutable)
 * - WRONG_KIND: e.g. committing a committed snapshot, preparing on top of an active one
 * - INVALID_ARGUMENT: a malformed key, a non-empty apply target, a fractional SOURCE_DATE_EPOCH
 * - HAS_CHILDREN: remove refused while other snapshots build on this one
 * - UNSAFE_ENTRY: a layer tar tried to reach outside its snapshot (`..`, symlink parents, links out)
 * - BAD_TAR: a layer tar that cannot be read
 * - NOT_SUPPORTED: e.g. a zstd layer on a Node without zstd
 * - MOUNT: mounting or unmounting failed, or the mount options cannot be expressed
 * - CORRUPT: the on-disk state contradicts itself
 */
export type SnapshotErrorReason =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'WRONG_KIND'
  | 'INVALID_ARGUMENT'
  | 'HAS_CHILDREN'
  | 'UNSAFE_ENTRY'
  | 'BAD_TAR'
  | 'NOT_SUPPORTED'
  | 'MOUNT'
  | 'CORRUPT';

/** A BuildError (name stays "BuildError", which errors/ fixes) with a snapshot-specific reason. */
export class SnapshotError extends BuildError {
  readonly reason: SnapshotErrorReason;

  constructor(reason: SnapshotErrorReason, message: string, options?: ErrorOptions) {
    // errors/ has no snapshot-specific codes yet; the precise reason is `reason`.
    const code: ErrorCode = reason === 'NOT_SUPPORTED' ? 'NOT_SUPPORTED' : 'IO';
    super(code, message, {}, options);
    this.reason = reason;
  }
}

export function isSnapshotError(e: unknown, reason?: SnapshotErrorReason): e is SnapshotError {
  return e instanceof SnapshotError && (reason === undefined || e.reason === reason);
}
