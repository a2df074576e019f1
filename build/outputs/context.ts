/**
 * What the outputs of one build share: the built image as the exporters take it, its
 * assembled forms (made once per layer format, uncompressed for the store), and the response
 * they fill in.
 */
import type { ContentProvider } from '../../content/index.js';
import type { Descriptor, Platform } from '../../oci/index.js';
import { assembleImage, exportLayer, type ExportImage, type LayerFormat } from '../../exporter/index.js';
import { type ImageBlobs } from '../../images/index.js';
import { descriptorObject, goJson } from '../../oci/index.js';
import { openSnapshotTar, type Layer } from '../../solver/ops/index.js';
import { isLazy } from '../image-result.js';
import { fetchedLayerBlobs, fetchingProvider, lazyLayerBlob, unpackedLayers } from '../lazy-layers.js';
import type { State } from '../state.js';
import type { BuiltImage } from '../build.js';
import type { RegistryAccess } from '../pull.js';
import type { Readable } from 'node:stream';
import { IMAGE_SIZE_KEY } from './types.js';

export interface ExportContext {
  readonly state: State;
  readonly image: BuiltImage;
  readonly access: RegistryAccess;
  readonly platform: Platform;
  /** The image with its layers as the snapshots themselves: no compression, no copy. */
  forStore(): Promise<ImageBlobs>;
  /** The image with its layers compressed as `format` asks (several outputs of one format share it). */
  forArchive(format: LayerFormat): Promise<ImageBlobs>;
  /** `blobs` as the OCI layout and docker archive writers take it. */
  exported(blobs: ImageBlobs, names: readonly string[]): ExportImage;
  /** The image exporter's descriptor: the manifest and its platform. */
  imageDescriptor(blobs: ImageBlobs): Descriptor;
  /** A layer's uncompressed tar, by diff id, from its snapshot. */
  openTar(diffId: string): Promise<Readable>;
  /** The image's layers as snapshots (a lazy image's chain unpacked, once): for outputs of files. */
  snapshotLayers(): Promise<readonly Layer[]>;
  /** Where the image's blobs are read: the content store, a lazy image's blobs fetched into it when first read. */
  readonly provider: ContentProvider;
  /** Record what an output made in the response (a later output's keys replace an earlier one's). */
  report(blobs: ImageBlobs, desc: Descriptor, names: readonly string[]): void;
  readonly response: Record<string, string>;
}

export function exportContext(state: State, image: BuiltImage, access: RegistryAccess): ExportContext {
  // As BuildKit: the image is as old as its last history entry, so a cached rebuild is the
  // same image.
  const last = [...image.history].reverse().find((h) => h.created !== undefined)?.created;
  const created = last === undefined ? new Date() : new Date(last);
  const base = {
    config: image.config,
    ...(image.author === undefined ? {} : { author: image.author }),
    platform: image.platform,
    history: image.history,
    created,
    ...(image.configExtra === undefined ? {} : { extra: image.configExtra }),
  };
  let local: ImageBlobs | undefined;
  const archived = new Map<string, ImageBlobs>();
  const response: Record<string, string> = {};
  const platform: Platform = {
    architecture: image.platform.architecture,
    os: image.platform.os,
    ...(image.platform.variant === undefined || image.platform.variant === '' ? {} : { variant: image.platform.variant }),
  };
  const lazy = isLazy(image.layers) ? image.layers : undefined;
  let snapshots: Promise<readonly Layer[]> | undefined;
  const snapshotLayers = (): Promise<readonly Layer[]> => (snapshots ??= isLazy(image.layers) ? unpackedLayers(state, image.layers) : Promise.resolve(image.layers));
  const snapshotOf = async (diffId: string) => (await snapshotLayers()).find((l) => l.diffId === diffId)!.snapshot;
  const provider = fetchingProvider(state.content, lazy === undefined ? [] : [lazy]);
  return {
    state,
    image,
    access,
    platform,
    response,
    provider,
    snapshotLayers,
    async forStore() {
      // A lazy image goes into the store as its blobs (fetched, not unpacked): the store takes
      // compressed layers whose blobs it holds, as a pushed image's.
      local ??= await assembleImage(state.content, {
        ...base,
        layers:
          lazy !== undefined
            ? (await fetchedLayerBlobs(state.content, lazy)).map((blob, i) => ({ diffId: lazy.layers[i]!.diffId, blob }))
            : (await snapshotLayers()).map((l) => ({
                diffId: l.diffId,
                blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.diffId, size: l.size },
              })),
      });
      return local;
    },
    async forArchive(format) {
      const key = JSON.stringify(format);
      let blobs = archived.get(key);
      if (blobs === undefined) {
        const layers =
          lazy !== undefined
            ? await Promise.all(lazy.layers.map(async (l) => ({ diffId: l.diffId, blob: await lazyLayerBlob(state.content, lazy, l, format) })))
            : await Promise.all(
                (await snapshotLayers()).map(async (l) => exportLayer(state.content, l.diffId, format, () => openSnapshotTar(state, l.snapshot))),
              );
        blobs = await assembleImage(state.content, { ...base, layers, ociMediaTypes: format.ociMediaTypes });
        archived.set(key, blobs);
      }
      return blobs;
    },
    exported: (blobs, names) => ({ provider, image: blobs, names, platform, created }),
    imageDescriptor: (blobs) => ({ ...blobs.manifest, platform }),
    openTar: async (diffId) => openSnapshotTar(state, await snapshotOf(diffId)),
    report(blobs, desc, names) {
      response['containerimage.digest'] = blobs.manifest.digest;
      response['containerimage.config.digest'] = blobs.config.digest;
      response['containerimage.descriptor'] = Buffer.from(goJson(descriptorObject(desc))).toString('base64');
      response[IMAGE_SIZE_KEY] = String(blobs.layers.reduce((sum, l) => sum + l.size, 0));
      if (names.length > 0) response['image.name'] = names.join(',');
    },
  };
}
