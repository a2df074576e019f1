/**
 * Errors of image assembly and the outputs: BuildErrors with a stable
 * `reason` beside the (coarser) project-wide code.
 */
import { BuildError, type ErrorCode } from '../errors/index.js';

export type ExporterErrorReason =
  | 'BAD_REFERENCE'   // an image name that is not a valid reference
  | 'BAD_IMAGE'       // a manifest or config that is not what tsbuild can read
  | 'UNSAFE_LAYER'    // a layer entry that would write outside the root
  | 'NOT_SUPPORTED';  // a feature this build of tsbuild lacks (zstd, xattrs without native/)

const CODE: Readonly<Record<ExporterErrorReason, ErrorCode>> = {
  BAD_REFERENCE: 'USAGE',
  BAD_IMAGE: 'IO',
  UNSAFE_LAYER: 'IO',
  NOT_SUPPORTED: 'NOT_SUPPORTED',
};

export class ExporterError extends BuildError {
  readonly reason: ExporterErrorReason;

  constructor(reason: ExporterErrorReason, message: string, options?: ErrorOptions) {
    super(CODE[reason], message, {}, options);
    this.reason = reason;
  }
}

export function isExporterError(e: unknown, reason?: ExporterErrorReason): e is ExporterError {
  return e instanceof ExporterError && (reason === undefined || e.reason === reason);
}
