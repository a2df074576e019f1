import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Of } from '../../content/index.js';
import { MediaType, type Descriptor } from '../../oci/index.js';
import { blobInPack, buildPack, checkPack, packKey, packOnly, parsePacks } from './pack.js';

const blob = (bytes: Buffer): Descriptor => ({ mediaType: MediaType.ociLayerGzip, digest: sha256Of(bytes), size: bytes.length });

describe('gha packs', () => {
  const parts = [randomBytes(10), randomBytes(3000), randomBytes(1)];
  const blobs = parts.map(blob);
  const bytesOf = new Map(parts.map((p) => [sha256Of(p), p]));
  const read = async (d: Descriptor) => bytesOf.get(d.digest)!;

  it('packs blobs in digest order, the same blobs making the same entry, and gives each back checked', async () => {
    const { pack, bytes } = await buildPack(blobs, read);
    const again = await buildPack([...blobs].reverse(), read);
    expect(again.pack).toEqual(pack);
    expect(pack.key).toBe(packKey(sha256Of(bytes)));
    expect(pack.size).toBe(3011);
    expect(pack.blobs.map((b) => b.digest)).toEqual(blobs.map((b) => b.digest).sort());
    const checked = checkPack(pack, bytes, 'gha:test');
    for (const [i, b] of blobs.entries()) expect(blobInPack(pack, checked, b, 'gha:test').equals(parts[i]!)).toBe(true);
    // The index lists it as JSON and reads it back the same.
    expect(parsePacks(JSON.parse(JSON.stringify([pack])), 'gha:test')).toEqual([pack]);
  });

  it('refuses a pack or a blob whose bytes do not match their digests', async () => {
    const { pack, bytes } = await buildPack(blobs, read);
    const corrupt = Buffer.from(bytes);
    corrupt[5] = corrupt[5]! ^ 0xff;
    expect(() => checkPack(pack, corrupt, 'gha:test')).toThrow(`the cache at gha:test has a corrupt pack ${pack.key}`);
    // A blob whose recorded place holds other bytes (a lying index) is refused too.
    const shifted = { ...pack, blobs: pack.blobs.map((b) => ({ ...b, offset: b.offset === 0 ? 1 : b.offset - 1 })) };
    const big = blobs.find((b) => b.size === 3000)!;
    expect(() => blobInPack(shifted, bytes, big, 'gha:test')).toThrow(`corrupt layer ${big.digest}`);
    expect(() => blobInPack(pack, bytes, blob(Buffer.from('elsewhere')), 'gha:test')).toThrow('lacks layer');
  });

  it('an index entry without packs (written before them) has none; a malformed list is refused', () => {
    expect(parsePacks(undefined, 'gha:old')).toEqual([]);
    expect(() => parsePacks({}, 'gha:x')).toThrow('lists packs that are not a list');
    const digest = sha256Of(Buffer.from('x'));
    expect(() => parsePacks([{ key: 'other', digest, size: 1, blobs: [] }], 'gha:x')).toThrow('has key "other"');
    expect(() => parsePacks([{ key: packKey(digest), digest, size: 1, blobs: [{ digest, offset: 1, size: 1 }] }], 'gha:x')).toThrow('lies past its end');
  });

  it('a reused pack keeps only the blobs the new cache names', async () => {
    const { pack } = await buildPack(blobs, read);
    const kept = packOnly(pack, new Set([blobs[1]!.digest]));
    expect(kept.blobs.map((b) => b.digest)).toEqual([blobs[1]!.digest]);
    expect(kept.key).toBe(pack.key);
  });
});
