/**
 * Layer blobs: an uncompressed layer tar streamed through compression into the content store,
 * hashed on the way (the diff id before compressing, the blob digest after), once per
 * (diff id, compression). What was made is remembered in the layer memo (images/layer-memo.ts).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressor, decompressor, DigestTap, type ContentProvider, type ContentStore, type Descriptor, type Digest } from '../content/index.js';
import { readLayerMemo, writeLayerMemo, type ForeignLayer, type LayerMemo } from '../images/index.js';
import { ExporterError } from './errors.js';
import { layerCompression, layerMediaType, type Compression } from '../oci/index.js';

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
  const memos = new Map(await Promise.all(COMPRESSIONS.map(async (c) => [c, await readLayerMemo(store, diffId, c)] as const)));
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

function foreignDescriptor(memo: LayerMemo, foreign: ForeignLayer): Descriptor {
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
  if (options.diffId !== undefined) {
    const known = await readLayerMemo(options.store, options.diffId, compression);
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
    await writeLayerMemo(options.store, { diffId, compression, digest: info.digest, size: info.size });
    return { blob: { mediaType, digest: info.digest, size: info.size }, diffId };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** The uncompressed tar of a layer blob in the store, whatever its compression. */
export async function openLayerTar(provider: ContentProvider, layer: Descriptor): Promise<Readable> {
  return layerTarOf(layer, () => provider.reader(layer.digest));
}

/**
 * The uncompressed tar of a layer whose blob `fetching` is bringing into `store`, read as it
 * arrives (ContentStore.readWhileWritten): an unpack then overlaps the download.
 */
export async function fetchedLayerTar(store: Pick<ContentStore, 'readWhileWritten'>, layer: Descriptor, fetching: Promise<unknown>): Promise<Readable> {
  return layerTarOf(layer, () => store.readWhileWritten(layer.digest, fetching));
}

/** The uncompressed tar of a layer whose blob `open` reads. */
async function layerTarOf(layer: Descriptor, open: () => Promise<Readable>): Promise<Readable> {
  const compression = layerCompression(layer.mediaType);
  if (compression === undefined) throw new ExporterError('BAD_IMAGE', `not a layer media type: ${layer.mediaType}`);
  const blob = await open();
  const decompress = decompressor(compression);
  if (!decompress) return blob;
  blob.on('error', (e) => decompress.destroy(e));
  return blob.pipe(decompress);
}
