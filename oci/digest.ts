/**
 * Digests (`algorithm:encoded`) as one branded string for every folder: the content store's
 * blobs, the solver's vertex digests and cache keys, a layer's diff id. Produced by hashing
 * (content/, solver/core) or accepted after {@link isDigest}; never by a bare cast elsewhere.
 */

declare const digestBrand: unique symbol;
/** `algorithm:encoded`, checked by {@link isDigest}; only sha256 is produced by tsbuild. */
export type Digest = string & { readonly [digestBrand]: 'Digest' };

export type DigestAlgorithm = 'sha256' | 'sha512';

const DIGEST_PATTERN: Readonly<Record<DigestAlgorithm, RegExp>> = {
  sha256: /^sha256:[0-9a-f]{64}$/,
  sha512: /^sha512:[0-9a-f]{128}$/,
};

export function isDigest(s: string): s is Digest {
  const colon = s.indexOf(':');
  const algorithm = s.slice(0, colon);
  return (algorithm === 'sha256' || algorithm === 'sha512') && DIGEST_PATTERN[algorithm].test(s);
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

/** The encoded part (hex) of a digest, as used for file names. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}
