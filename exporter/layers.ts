/**
 * Layer blobs: an uncompressed layer tar streamed through compression into the content store,
 * hashed on the way (the diff id before compressing, the blob digest after), once per
 * (diff id, compression). What was made is remembered in small per-layer files under
 * `<content root>/layers/`, each written atomically, so concurrent builds need no lock.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import {
  digestHex, DigestTap, isDigest, writeFileAtomic,
  type ContentProvider, type ContentStore, type Descriptor, type Digest,
} from '../content/index.js';
import { ExporterError } from './errors.js';
import { layerCompression, layerMediaType, type Compression } from './mediatypes.js';

export interface CompressLayerOptions {
  readonly store: ContentStore;
  /** The tar's digest when known: the memo key, and verified while compressing. */
  readonly diffId?: Digest;
  /** gzip level 1..9 (default zlib's 6). Not part of the memo key: a blob is made once. */
  readonly level?: number;
}

export interface CompressedLayer {
  /** OCI layer media type, digest and size of the blob. */
  readonly blob: Descriptor;
  readonly diffId: Digest;
}

interface MemoFile {
  readonly diffId: string;
  readonly compression: Compression;
  readonly digest: string;
  readonly size: number;
}

export async function compressLayer(
  openTar: () => Readable,
  compression: Compression,
  options: CompressLayerOptions,
): Promise<CompressedLayer> {
  const mediaType = layerMediaType(compression, true)!;
  const memoPath = options.diffId === undefined ? undefined : memoFile(options.store, options.diffId, compression);
  if (memoPath !== undefined) {
    const known = await readMemo(memoPath, options.store);
    if (known !== undefined) return { blob: { mediaType, digest: known.digest, size: known.size }, diffId: options.diffId! };
  }
  const compressor = compressorFor(compression, options.level);
  const tap = new DigestTap(options.diffId === undefined ? undefined : { digest: options.diffId });
  const writer = await options.store.writer(`layer-${compression}-${options.diffId ?? 'new'}`);
  try {
    // end: false — commit() ends the writer itself, after the last byte is in.
    if (compressor) await pipeline(openTar(), tap, compressor, writer, { end: false });
    else await pipeline(openTar(), tap, writer, { end: false });
    const info = await writer.commit();
    const diffId = tap.digest;
    const file: MemoFile = { diffId, compression, digest: info.digest, size: info.size };
    await mkdir(join(options.store.root, 'layers'), { recursive: true });
    await writeFileAtomic(memoFile(options.store, diffId, compression), JSON.stringify(file));
    return { blob: { mediaType, digest: info.digest, size: info.size }, diffId };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** The uncompressed tar of a layer blob in the store, whatever its compression. */
export async function openLayerTar(provider: ContentProvider, layer: Descriptor): Promise<Readable> {
  const compression = layerCompression(layer.mediaType);
  if (compression === undefined) throw new ExporterError('BAD_IMAGE', `not a layer media type: ${layer.mediaType}`);
  const blob = await provider.reader(layer.digest);
  const decompressor = decompressorFor(compression);
  if (!decompressor) return blob;
  blob.on('error', (e) => decompressor.destroy(e));
  return blob.pipe(decompressor);
}

/**
 * Remember that `blob` (already in the store) is the layer `diffId` compressed with
 * `compression`: a layer pulled from a registry is then pushed and exported as it came,
 * never compressed again.
 */
export async function rememberLayerBlob(store: ContentStore, diffId: Digest, compression: Compression, blob: Descriptor): Promise<void> {
  const file: MemoFile = { diffId, compression, digest: blob.digest, size: blob.size };
  await mkdir(join(store.root, 'layers'), { recursive: true });
  await writeFileAtomic(memoFile(store, diffId, compression), JSON.stringify(file));
}

function memoFile(store: ContentStore, diffId: Digest, compression: Compression): string {
  return join(store.root, 'layers', `${digestHex(diffId)}.${compression}.json`);
}

async function readMemo(path: string, store: ContentStore): Promise<{ digest: Digest; size: number } | undefined> {
  let memo: MemoFile;
  try {
    memo = JSON.parse(await readFile(path, 'utf8')) as MemoFile;
  } catch {
    return undefined; // absent or torn: make the blob again
  }
  // The blob may have been pruned since; then the memo is void.
  if (!isDigest(memo.digest) || !(await store.has(memo.digest))) return undefined;
  return { digest: memo.digest, size: memo.size };
}

/** zstd exists in Node's zlib only from Node 22.15/23.8; feature-detect rather than assume. */
interface ZstdZlib {
  createZstdCompress?: (options?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
  constants: { ZSTD_c_compressionLevel?: number };
}

function compressorFor(compression: Compression, level: number | undefined): Transform | undefined {
  switch (compression) {
    case 'uncompressed':
      return undefined;
    case 'gzip':
      return zlib.createGzip(level === undefined ? {} : { level });
    case 'zstd': {
      const z = zlib as unknown as ZstdZlib;
      if (!z.createZstdCompress || z.constants.ZSTD_c_compressionLevel === undefined) {
        throw new ExporterError('NOT_SUPPORTED', 'not supported yet: zstd compression (this Node has no zstd in zlib)');
      }
      return z.createZstdCompress(level === undefined ? {} : { params: { [z.constants.ZSTD_c_compressionLevel]: level } });
    }
  }
}

function decompressorFor(compression: Compression): Transform | undefined {
  switch (compression) {
    case 'uncompressed':
      return undefined;
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd': {
      const z = zlib as unknown as ZstdZlib;
      if (!z.createZstdDecompress) throw new ExporterError('NOT_SUPPORTED', 'not supported yet: zstd compression (this Node has no zstd in zlib)');
      return z.createZstdDecompress();
    }
  }
}

/** Blobs the layer memo still names (compressed layers kept as cache). */
export async function memoizedLayerBlobs(store: ContentStore): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  let names: string[];
  try {
    names = await readdir(join(store.root, 'layers'));
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const memo = JSON.parse(await readFile(join(store.root, 'layers', name), 'utf8')) as MemoFile;
      if (isDigest(memo.digest)) out.add(memo.digest);
    } catch {
      // torn or removed meanwhile: names nothing
    }
  }
  return out;
}
