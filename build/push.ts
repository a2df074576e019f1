/**
 * Push, in one place: an image made ready to push — a built image's assembled blobs, or an
 * image of the local store — sent to registry references with the saved credentials.
 */
import { BuildError } from '../errors/index.js';
import type { BlobSources, ContentProvider, Descriptor, Digest } from '../content/index.js';
import { exportLayer, manifestBytes, type LayerFormat } from '../exporter/index.js';
import { isImageError } from '../images/index.js';
import { readImageConfig, rememberLayerBlob, type ImageBlobs, type ResolvedImage } from '../images/index.js';
import { isNondistributable, layerCompression, MediaType } from '../oci/index.js';
import { credentialsFor, pushBlobsOf, pushImage, type PushOptions } from '../registry/index.js';
import { parseReference, type ImageReference } from '../images/index.js';
import { diffTar } from '../snapshotter/index.js';
import { chainIds, snapshotForChain } from '../solver/ops/index.js';
import { openState, type State } from './state.js';
import type { RegistryAccess } from './pull.js';

export interface PushableImage {
  readonly blobs: readonly Descriptor[];
  readonly manifest: { readonly mediaType: string; readonly bytes: Buffer };
  /** Where the blobs are read when uploaded (default the content store). */
  readonly provider?: ContentProvider;
}

/**
 * An image of the local store, made ready to push: base layers go as they were pulled (unless
 * the format asks otherwise); layers built here (kept as snapshots, never compressed) are
 * compressed once from their snapshots.
 */
export async function pushableImage(state: State, image: ResolvedImage, format: LayerFormat): Promise<PushableImage> {
  const { diffIds } = await readImageConfig(state.content, image);
  const ids = chainIds(diffIds);
  const layers = await Promise.all(
    image.layers.map(async (layer, i): Promise<Descriptor> => {
      const diffId = diffIds[i]!;
      const compression = layerCompression(layer.mediaType);
      // A non-distributable layer goes as its descriptor says, whether its blob is here or not
      // (pushes never send it); remembered, so that images built on it list it the same way.
      if (compression !== undefined && isNondistributable(layer.mediaType)) {
        await rememberLayerBlob(state.content, diffId, compression, layer);
        return layer;
      }
      // A pulled image's blobs are in the content store: they count as pulled layers.
      if (compression !== undefined && layer.digest !== diffId && (await state.content.has(layer.digest))) {
        await rememberLayerBlob(state.content, diffId, compression, layer);
      }
      const made = await exportLayer(state.content, diffId, format, async () => {
        const snapshot = await snapshotForChain(state, ids[i]!);
        if (snapshot === undefined) {
          throw new BuildError('IO', `layer ${i + 1} of ${image.name} is neither in the content store nor in a snapshot`, {
            hint: 'build the image again, then push it',
          });
        }
        return diffTar(await state.snapshots.upperDir(snapshot));
      });
      return made.blob;
    }),
  );
  const bytes = manifestBytes({ config: image.config, layers, ociMediaTypes: format.ociMediaTypes });
  await state.content.writeBlob(bytes);
  return {
    // Non-distributable layers among them are left out by pushImage.
    blobs: [...layers, image.config],
    manifest: { mediaType: format.ociMediaTypes ? MediaType.ociManifest : MediaType.dockerManifest, bytes },
  };
}

/**
 * A built image, assembled for a layer format, made ready to push: its blobs in the content
 * store, or read through `provider` (a lazy image's, fetched only if a push must upload them).
 */
export async function pushableBlobs(state: State, blobs: ImageBlobs, provider?: ContentProvider): Promise<PushableImage> {
  return {
    blobs: [...blobs.layers, blobs.config],
    manifest: { mediaType: blobs.manifest.mediaType, bytes: await state.content.readBytes(blobs.manifest.digest) },
    ...(provider === undefined ? {} : { provider }),
  };
}

/** Push `ready` to each reference in turn; the manifest digests the registries answered. */
export async function pushTo(state: State, ready: PushableImage, refs: readonly ImageReference[], access: RegistryAccess): Promise<Digest[]> {
  const blobs = pushBlobsOf(ready.provider ?? state.content, ready.blobs);
  const digests: Digest[] = [];
  for (const ref of refs) digests.push(await pushImage(ref, blobs, ready.manifest, await pushOptionsFor(ref.domain, access, state.content)));
  return digests;
}

/** Push `ready` under each name (references parsed as they come, as a push reads them). */
export async function pushToNames(state: State, ready: PushableImage, names: readonly string[], access: RegistryAccess): Promise<void> {
  for (const n of names) await pushTo(state, ready, [parseReference(n)], access);
}

export interface PushStoredRequest {
  /** The state directory. */
  readonly root: string;
  /** The image's name in the local store. */
  readonly name: string;
  /** Where to push it (default: its name). */
  readonly target?: string;
  readonly format: LayerFormat;
  readonly access: RegistryAccess;
}

/** `tsbuild push`: an image of the local store to a registry; the manifest digest the registry took. */
export async function pushStoredImage(req: PushStoredRequest): Promise<Digest> {
  const target = parseReference(req.target ?? req.name);
  const state = await openState(req.root);
  let image;
  try {
    image = await state.images.resolveImage(req.name);
  } catch (e) {
    if (isImageError(e, 'IMAGE_NOT_FOUND')) throw new BuildError('IO', `no such image: ${req.name}`, { hint: 'list images with "tsbuild images"' });
    throw e;
  }
  const ready = await pushableImage(state, image, req.format);
  const [digest] = await pushTo(state, ready, [target], req.access);
  return digest!;
}

/**
 * How to push to `domain`: connection options, the saved credentials, the content store as
 * the record of where blobs live, and `$TSBUILD_PUSH_CHUNK_SIZE` (bytes; blobs above it go in
 * chunks of that size, 32 MiB when unset).
 */
export async function pushOptionsFor(domain: string, access: RegistryAccess, sources: BlobSources): Promise<PushOptions> {
  const credentials = await credentialsFor(domain, access.env);
  const chunk = access.env.TSBUILD_PUSH_CHUNK_SIZE;
  let chunkSize: number | undefined;
  if (chunk !== undefined && chunk !== '') {
    chunkSize = Number(chunk);
    if (!/^\d+$/.test(chunk) || !Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw new BuildError('USAGE', `invalid TSBUILD_PUSH_CHUNK_SIZE "${chunk}"`, { hint: 'give a number of bytes, e.g. 33554432' });
    }
  }
  return {
    insecure: access.insecure,
    ca: access.ca,
    sources,
    ...(credentials === undefined ? {} : { credentials }),
    ...(chunkSize === undefined ? {} : { chunkSize }),
  };
}
