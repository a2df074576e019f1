/**
 * Making digests (the brand itself is oci/'s): validated from a string, hashed from bytes, and
 * a stream tap that hashes bytes as they pass so nothing is read twice.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { digestAlgorithm, isDigest, type Digest, type DigestAlgorithm } from '../oci/index.js';
import { ContentError } from './errors.js';

export function asDigest(s: string): Digest {
  if (!isDigest(s)) throw new ContentError('BAD_DIGEST', `invalid digest "${s}": expected sha256:<64 lower-case hex digits>`);
  return s;
}

export function sha256Of(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

/**
 * A pass-through that hashes the bytes flowing through it. After the stream ends, `digest`
 * and `size` describe them. With `expected`, the stream fails at its end on a mismatch, so a
 * pipeline never completes with bad bytes.
 */
export class DigestTap extends Transform {
  readonly #hash: Hash;
  readonly #algorithm: DigestAlgorithm;
  readonly #expected: { readonly digest?: Digest; readonly size?: number } | undefined;
  #size = 0;
  #digest: Digest | undefined;

  constructor(expected?: { readonly digest?: Digest; readonly size?: number }, algorithm: DigestAlgorithm = 'sha256') {
    super();
    this.#algorithm = expected?.digest !== undefined ? digestAlgorithm(expected.digest) : algorithm;
    this.#hash = createHash(this.#algorithm);
    this.#expected = expected;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#expected?.size !== undefined && this.#size > this.#expected.size) {
      callback(new ContentError('SIZE_MISMATCH', `more than the expected ${this.#expected.size} bytes`));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#digest = `${this.#algorithm}:${this.#hash.digest('hex')}` as Digest;
    const expected = this.#expected;
    if (expected?.size !== undefined && expected.size !== this.#size) {
      callback(new ContentError('SIZE_MISMATCH', `got ${this.#size} bytes, expected ${expected.size}`));
    } else if (expected?.digest !== undefined && expected.digest !== this.#digest) {
      callback(new ContentError('DIGEST_MISMATCH', `got ${this.#digest}, expected ${expected.digest}`));
    } else {
      callback();
    }
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** The digest of everything that passed; only once the stream has ended. */
  get digest(): Digest {
    if (this.#digest === undefined) throw new Error('DigestTap: digest read before the stream ended');
    return this.#digest;
  }
}
