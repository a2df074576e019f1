import { BuildError, type ErrorCode } from '../errors/index.js';

/**
 * Why reading a tar failed, for callers that branch on it (never on the message).
 * - BAD_TAR: the archive cannot be read (a bad checksum, a truncated entry, a malformed record)
 * - NOT_SUPPORTED: a well-formed archive using what this reader does not handle (an entry type,
 *   a PAX key that is not UTF-8)
 */
export type TarErrorReason = 'BAD_TAR' | 'NOT_SUPPORTED';

/** A BuildError with a tar-specific reason; the reasons keep the names they had as snapshot errors. */
export class TarError extends BuildError {
  readonly reason: TarErrorReason;

  constructor(reason: TarErrorReason, message: string, options?: ErrorOptions) {
    const code: ErrorCode = reason === 'NOT_SUPPORTED' ? 'NOT_SUPPORTED' : 'IO';
    super(code, message, {}, options);
    this.reason = reason;
  }
}

export function isTarError(e: unknown, reason?: TarErrorReason): e is TarError {
  return e instanceof TarError && (reason === undefined || e.reason === reason);
}
