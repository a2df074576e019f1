/**
 * Errors of the local image store, image names and image reading: BuildErrors with a stable
 * `reason` beside the (coarser) project-wide code.
 */
import { BuildError, type ErrorCode } from '../errors/index.js';

export type ImageErrorReason =
  | 'IMAGE_NOT_FOUND' // no image of that name in the local store
  | 'BAD_REFERENCE'   // an image name that is not a valid reference
  | 'BAD_IMAGE';      // a manifest or config that is not what tsbuild can read

const CODE: Readonly<Record<ImageErrorReason, ErrorCode>> = {
  IMAGE_NOT_FOUND: 'IO',
  BAD_REFERENCE: 'USAGE',
  BAD_IMAGE: 'IO',
};

export class ImageError extends BuildError {
  readonly reason: ImageErrorReason;

  constructor(reason: ImageErrorReason, message: string, options?: ErrorOptions) {
    super(CODE[reason], message, {}, options);
    this.reason = reason;
  }
}

export function isImageError(e: unknown, reason?: ImageErrorReason): e is ImageError {
  return e instanceof ImageError && (reason === undefined || e.reason === reason);
}
