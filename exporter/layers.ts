/**
 * Layer blobs: an uncompressed layer tar streamed through compression into the content store,
 * hashed on the way (the diff id before compressing, the blob digest after), once per
 * (diff id, compression). What was made is remembered in small per-layer files under
 * `<content root>/layers/`, each written atomically, so concurrent builds need no lock.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  compressor, decompressor, digestHex, DigestTap, isDigest, writeFileAtomic,
  type ContentProvider, type ContentStore, type Descriptor, type Digest,
} from '../content/index.js';
import { ExporterError } from './errors.js';
import { isNondistributable, layerCompression, layerMediaType, type Compression } from '../oci/index.js';

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
  /** The blob came from a registry (a base image layer), not from compressing a build's layer. */
  readonly pulled?: boolean;
  /** A non-distributable base layer: its descriptor's media type, URLs and annotations. */
  readonly foreign?: ForeignLayer;
}

interface ForeignLayer {
  readonly mediaType: string;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
}

interface Memo {
  readonly digest: Digest;
  readonly size: number;
  readonly pulled?: boolean;
  readonly foreign?: ForeignLayer;
}

/** How an output wants its layers (the `compression`, `compression-level`, `force-compression` and `oci-mediatypes` options). */
export interface LayerFormat {
  readonly compression: Compression;
  readonly level?: number;
  /** Recompress base layers pulled with another compression too. */
  readonly force?: boolean;
  /** Docker media types (false) cannot name zstd layers. */
  readonly ociMediaTypes: boolean;
}

export const DEFAULT_LAYER_FORMAT: LayerFormat = { compression: 'gzip', ociMediaTypes: true };

const COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd', 'uncompressed'];

/**
 * The blob an output lists for layer `diffId`. A layer built here is compressed as the format
 * asks (once: the result is remembered). A base layer goes as it was pulled, whatever its
 * compression, unless `force` asks otherwise or the media types cannot name it; then its pulled
 * blob is decompressed and compressed again — the same tar, so the same diff id.
 * A non-distributable base layer always goes as it was pulled, its descriptor (media type,
 * `urls`, annotations) unchanged, `force` or not: another blob would be one no URL serves, and
 * pushing it would distribute what its owner kept back. Its memo stays valid without the blob
 * (the descriptor is all a push needs).
 * `openBuiltTar` gives the tar of a layer built here (it has no pulled blob).
 */
export async function exportLayer(
  store: ContentStore,
  diffId: Digest,
  format: LayerFormat,
  openBuiltTar: () => Readable | Promise<Readable>,
): Promise<CompressedLayer> {
  const level = format.level === undefined ? {} : { level: format.level };
  const memos = new Map(await Promise.all(COMPRESSIONS.map(async (c) => [c, await readMemo(memoFile(store, diffId, c), store)] as const)));
  for (const memo of memos.values()) {
    if (memo?.foreign !== undefined) return { blob: foreignDescriptor(memo, memo.foreign), diffId };
  }
  const asWanted = memos.get(format.compression);
  if (asWanted !== undefined) return { blob: { mediaType: layerMediaType(format.compression, true)!, digest: asWanted.digest, size: asWanted.size }, diffId };
  let pulled: { compression: Compression; blob: Descriptor } | undefined;
  for (const c of COMPRESSIONS) {
    const memo = memos.get(c);
    if (c !== format.compression && memo?.pulled === true) {
      pulled = { compression: c, blob: { mediaType: layerMediaType(c, true)!, digest: memo.digest, size: memo.size } };
      break;
    }
  }
  if (pulled !== undefined) {
    const nameable = format.ociMediaTypes || layerMediaType(pulled.compression, false) !== undefined;
    if (!format.force && nameable) return { blob: pulled.blob, diffId };
    const source = pulled.blob;
    return compressLayer(() => openLayerTar(store, source), format.compression, { store, diffId, ...level });
  }
  return compressLayer(openBuiltTar, format.compression, { store, diffId, ...level });
}

function foreignDescriptor(memo: Memo, foreign: ForeignLayer): Descriptor {
  return {
    mediaType: foreign.mediaType,
    digest: memo.digest,
    size: memo.size,
    ...(foreign.urls === undefined || foreign.urls.length === 0 ? {} : { urls: foreign.urls }),
    ...(foreign.annotations === undefined ? {} : { annotations: foreign.annotations }),
  };
}

export async function compressLayer(
  openTar: () => Readable | Promise<Readable>,
  compression: Compression,
  options: CompressLayerOptions,
): Promise<CompressedLayer> {
  const mediaType = layerMediaType(compression, true)!;
  const memoPath = options.diffId === undefined ? undefined : memoFile(options.store, options.diffId, compression);
  if (memoPath !== undefined) {
    const known = await readMemo(memoPath, options.store);
    // A non-distributable blob is not one to list as a plain layer: make a blob of our own.
    if (known !== undefined && known.foreign === undefined) return { blob: { mediaType, digest: known.digest, size: known.size }, diffId: options.diffId! };
  }
  const compress = compressor(compression, options.level);
  const tap = new DigestTap(options.diffId === undefined ? undefined : { digest: options.diffId });
  const writer = await options.store.writer(`layer-${compression}-${options.diffId ?? 'new'}`);
  try {
    // end: false — commit() ends the writer itself, after the last byte is in.
    const tar = await openTar();
    if (compress) await pipeline(tar, tap, compress, writer, { end: false });
    else await pipeline(tar, tap, writer, { end: false });
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
  const decompress = decompressor(compression);
  if (!decompress) return blob;
  blob.on('error', (e) => decompress.destroy(e));
  return blob.pipe(decompress);
}

/**
 * Remember that `blob` (already in the store) is the layer `diffId` compressed with
 * `compression`: a layer pulled from a registry is then pushed and exported as it came,
 * never compressed again. A non-distributable blob's descriptor is remembered whole.
 */
export async function rememberLayerBlob(store: ContentStore, diffId: Digest, compression: Compression, blob: Descriptor): Promise<void> {
  const foreign: ForeignLayer | undefined = !isNondistributable(blob.mediaType)
    ? undefined
    : {
        mediaType: blob.mediaType,
        ...(blob.urls === undefined || blob.urls.length === 0 ? {} : { urls: blob.urls }),
        ...(blob.annotations === undefined || Object.keys(blob.annotations).length === 0 ? {} : { annotations: blob.annotations }),
      };
  const file: MemoFile = { diffId, compression, digest: blob.digest, size: blob.size, pulled: true, ...(foreign === undefined ? {} : { foreign }) };
  await mkdir(join(store.root, 'layers'), { recursive: true });
  await writeFileAtomic(memoFile(store, diffId, compression), JSON.stringify(file));
}

function memoFile(store: ContentStore, diffId: Digest, compression: Compression): string {
  return join(store.root, 'layers', `${digestHex(diffId)}.${compression}.json`);
}

async function readMemo(path: string, store: ContentStore): Promise<Memo | undefined> {
  let memo: MemoFile;
  try {
    memo = JSON.parse(await readFile(path, 'utf8')) as MemoFile;
  } catch {
    return undefined; // absent or torn: make the blob again
  }
  if (!isDigest(memo.digest)) return undefined;
  const foreign = memo.foreign !== undefined && isNondistributable(memo.foreign.mediaType) ? memo.foreign : undefined;
  // The blob may have been pruned since; then the memo is void — unless the layer is
  // non-distributable, whose descriptor stands without the blob.
  if (foreign === undefined && !(await store.has(memo.digest))) return undefined;
  return { digest: memo.digest, size: memo.size, ...(memo.pulled === true ? { pulled: true } : {}), ...(foreign === undefined ? {} : { foreign }) };
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
