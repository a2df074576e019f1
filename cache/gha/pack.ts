/**
 * gha small-blob packs: the layer blobs of an export under PACK_THRESHOLD go into one entry
 * (`tsbuild-pack-<hex of the pack's digest>`, immutable and content-addressed), and the index
 * entry says which blob lies at which offset of which pack. Each entry costs three requests
 * to write (CreateCacheEntry, the blob PUT, FinalizeCacheEntryUpload) and one lookup to read,
 * which is what a small layer costs most; a pack pays them once.
 *
 * The threshold is 512 KiB: from a runner the blob store takes some 50–100 MB/s, so 512 KiB
 * moves in 5–10 ms, while an entry's own three requests take 30–100 ms each: below it a
 * blob's cost is its requests, which the pack removes. Larger blobs stay entries of their own
 * because a pack is read whole when any of its blobs is needed: packing them would make an
 * import download megabytes it does not use. (A typical base layer, compressed, is above it;
 * the small layers of COPY and RUN steps that change a few files are far below.)
 */
import { sha256Of } from '../../content/index.js';
import { BuildError } from '../../errors/index.js';
import { digestHex, isDigest, type Descriptor, type Digest } from '../../oci/index.js';

/** Layer blobs smaller than this go into the export's pack. */
export const PACK_THRESHOLD = 512 * 1024;

/** Where one blob lies in a pack. */
export interface PackedBlob {
  readonly digest: Digest;
  readonly offset: number;
  readonly size: number;
}

/** A pack entry as the index lists it. */
export interface Pack {
  readonly key: string;
  /** The digest and size of the whole entry, checked when it is read. */
  readonly digest: Digest;
  readonly size: number;
  readonly blobs: readonly PackedBlob[];
}

export const packKey = (digest: Digest) => `tsbuild-pack-${digestHex(digest)}`;

/** The pack of `blobs` (ordered by digest, so the same blobs make the same entry) and its bytes. */
export async function buildPack(blobs: readonly Descriptor[], read: (blob: Descriptor) => Promise<Buffer>): Promise<{ readonly pack: Pack; readonly bytes: Buffer }> {
  const sorted = [...new Map(blobs.map((b) => [b.digest, b])).values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const parts: Buffer[] = [];
  const placed: PackedBlob[] = [];
  let offset = 0;
  for (const b of sorted) {
    const bytes = await read(b);
    if (bytes.length !== b.size) throw new Error(`internal: blob ${b.digest} has ${bytes.length} bytes, not ${b.size}`);
    parts.push(bytes);
    placed.push({ digest: b.digest, offset, size: b.size });
    offset += b.size;
  }
  const bytes = Buffer.concat(parts);
  const digest = sha256Of(bytes);
  return { pack: { key: packKey(digest), digest, size: bytes.length, blobs: placed }, bytes };
}

/** A pack keeping only the blobs `keep` names (an earlier export's pack reused by a later one). */
export function packOnly(pack: Pack, keep: ReadonlySet<Digest>): Pack {
  return { ...pack, blobs: pack.blobs.filter((b) => keep.has(b.digest)) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The index entry's `packs` (absent in caches written before packs: none), checked. */
export function parsePacks(v: unknown, where: string): Pack[] {
  if (v === undefined) return [];
  const bad = (what: string) => new BuildError('CACHE_IMPORT', `the cache at ${where} is not a tsbuild cache: ${what}`);
  if (!Array.isArray(v)) throw bad('its index entry lists packs that are not a list');
  return v.map((p, i): Pack => {
    if (!isObject(p) || typeof p['digest'] !== 'string' || !isDigest(p['digest']) || !isSize(p['size']) || !Array.isArray(p['blobs'])) throw bad(`pack ${i} is not a pack`);
    const digest = p['digest'];
    const size = p['size'];
    if (p['key'] !== packKey(digest)) throw bad(`pack ${i} has key ${JSON.stringify(p['key'])}, not ${packKey(digest)}`);
    const blobs = (p['blobs'] as unknown[]).map((b, j): PackedBlob => {
      if (!isObject(b) || typeof b['digest'] !== 'string' || !isDigest(b['digest']) || !isSize(b['offset']) || !isSize(b['size'])) throw bad(`blob ${j} of pack ${i} is not a blob`);
      if (b['offset'] + b['size'] > size) throw bad(`blob ${j} of pack ${i} lies past its end`);
      return { digest: b['digest'], offset: b['offset'], size: b['size'] };
    });
    return { key: packKey(digest), digest, size, blobs };
  });
}

/** A pack's bytes as read, checked against its digest and size. */
export function checkPack(pack: Pack, bytes: Buffer, where: string): Buffer {
  if (bytes.length !== pack.size || sha256Of(bytes) !== pack.digest) throw new BuildError('CACHE_IMPORT', `the cache at ${where} has a corrupt pack ${pack.key}`);
  return bytes;
}

/** One blob out of a checked pack's bytes, itself checked against its descriptor. */
export function blobInPack(pack: Pack, bytes: Buffer, blob: Descriptor, where: string): Buffer {
  const at = pack.blobs.find((b) => b.digest === blob.digest);
  if (at === undefined || at.size !== blob.size) throw new BuildError('CACHE_IMPORT', `the cache at ${where} lacks layer ${blob.digest} in pack ${pack.key}`);
  const slice = bytes.subarray(at.offset, at.offset + at.size);
  if (sha256Of(slice) !== blob.digest) throw new BuildError('CACHE_IMPORT', `the cache at ${where} has a corrupt layer ${blob.digest} in pack ${pack.key}`);
  return slice;
}
