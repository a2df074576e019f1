/**
 * Errors of the content store. tsbuild's ErrorCode list has no content-specific codes yet, so
 * these are BuildErrors with code 'IO' and a stable `reason` for callers that must tell them
 * apart (a missing blob is not a corrupt download).
 */
import { BuildError } from '../errors/index.js';

export type ContentErrorReason =
  | 'BAD_DIGEST'      // a string that is not `algorithm:hex`
  | 'DIGEST_MISMATCH' // bytes written do not hash to the expected digest
  | 'SIZE_MISMATCH'   // bytes written are not the expected length
  | 'NOT_FOUND'       // no committed blob with that digest
  | 'TOO_LARGE'       // readBytes on a blob above its limit
  | 'LOCKED';         // a lock could not be taken in time

export class ContentError extends BuildError {
  readonly reason: ContentErrorReason;

  constructor(reason: ContentErrorReason, message: string, options?: ErrorOptions) {
    super('IO', message, {}, options);
    this.reason = reason;
  }
}

export function isContentError(e: unknown, reason?: ContentErrorReason): e is ContentError {
  return e instanceof ContentError && (reason === undefined || e.reason === reason);
}

/** Node's errno code of a failed fs call, if any. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
