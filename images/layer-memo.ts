/**
 * The layer memo: which blob holds layer `diffId` compressed how, in small per-layer files
 * under `<content root>/layers/`, each written atomically, so concurrent builds need no lock.
 * Written when a layer is compressed (exporter/) or pulled (a base layer's blob as it came);
 * read to reuse blobs, and by prune, which keeps the blobs it names unless told otherwise.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type ContentStore } from '../content/index.js';
import { digestHex, isDigest, isNondistributable, layerCompression, type Compression, type Descriptor, type Digest } from '../oci/index.js';

/** A memo file as written: one per (diff id, compression). */
export interface LayerMemoFile {
  readonly diffId: Digest;
  readonly compression: Compression;
  /** A Digest when this process wrote it; checked when read back (a file may be torn). */
  readonly digest: Digest;
  readonly size: number;
  /** The blob came from a registry (a base image layer), not from compressing a build's layer. */
  readonly pulled?: boolean;
  /** A non-distributable base layer: its descriptor's media type, URLs and annotations. */
  readonly foreign?: ForeignLayer;
}

/** What a non-distributable layer's descriptor carries besides digest and size. */
export interface ForeignLayer {
  readonly mediaType: string;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A memo as read back: its blob present, or a non-distributable layer's descriptor. */
export interface LayerMemo {
  readonly digest: Digest;
  readonly size: number;
  readonly pulled?: boolean;
  readonly foreign?: ForeignLayer;
}

/**
 * Remember that `blob` (already in the store) is the layer `diffId` compressed with
 * `compression`: a layer pulled from a registry is then pushed and exported as it came,
 * never compressed again. A non-distributable blob's descriptor is remembered whole.
 */
/**
 * Remembers a layer's blob as it came (pulled, or read from an imported cache) under its own
 * compression, so that outputs and exports reuse it instead of compressing the layer again;
 * an uncompressed blob needs no memo.
 */
export async function rememberBlobAsIs(store: ContentStore, diffId: Digest, blob: Descriptor): Promise<void> {
  const compression = layerCompression(blob.mediaType);
  if (compression !== undefined) await rememberLayerBlob(store, diffId, compression, blob);
}

export async function rememberLayerBlob(store: ContentStore, diffId: Digest, compression: Compression, blob: Descriptor): Promise<void> {
  const foreign: ForeignLayer | undefined = !isNondistributable(blob.mediaType)
    ? undefined
    : {
        mediaType: blob.mediaType,
        ...(blob.urls === undefined || blob.urls.length === 0 ? {} : { urls: blob.urls }),
        ...(blob.annotations === undefined || Object.keys(blob.annotations).length === 0 ? {} : { annotations: blob.annotations }),
      };
  const file: LayerMemoFile = { diffId, compression, digest: blob.digest, size: blob.size, pulled: true, ...(foreign === undefined ? {} : { foreign }) };
  await writeLayerMemo(store, file);
}

/** Records what a layer's blob is for one compression (written atomically: no lock needed). */
export async function writeLayerMemo(store: ContentStore, file: LayerMemoFile): Promise<void> {
  await mkdir(join(store.root, 'layers'), { recursive: true });
  await writeFileAtomic(memoFile(store, file.diffId, file.compression), JSON.stringify(file));
}

/** What the memo says of layer `diffId` compressed with `compression`; undefined when nothing (valid). */
export async function readLayerMemo(store: ContentStore, diffId: Digest, compression: Compression): Promise<LayerMemo | undefined> {
  return readMemo(memoFile(store, diffId, compression), store);
}

function memoFile(store: ContentStore, diffId: Digest, compression: Compression): string {
  return join(store.root, 'layers', `${digestHex(diffId)}.${compression}.json`);
}

async function readMemo(path: string, store: ContentStore): Promise<LayerMemo | undefined> {
  let memo: LayerMemoFile;
  try {
    memo = JSON.parse(await readFile(path, 'utf8')) as LayerMemoFile;
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
      const memo = JSON.parse(await readFile(join(store.root, 'layers', name), 'utf8')) as LayerMemoFile;
      if (isDigest(memo.digest)) out.add(memo.digest);
    } catch {
      // torn or removed meanwhile: names nothing
    }
  }
  return out;
}
