/**
 * An image by reference (from the local store, or one a build context names), unpacked into
 * snapshots (reused when already unpacked). An image whose layers are not all here yet (resolved
 * in its registry) is a lazy result: nothing is fetched until a step needs its files or an
 * output its blobs.
 */
import { digestOf, type CacheMap, type ExecContext, type Op } from '../core/index.js';
import type { ImageResolver } from './deps.js';
import type { LayerStore } from './layers.js';
import type { Ref } from './ref.js';
import type { SnapshotName } from '../../snapshotter/index.js';
import { unpackImage } from './unpack.js';

export class ImageSourceOp implements Op<Ref> {
  readonly spec: { kind: 'image'; ref: string };
  constructor(
    private readonly deps: { readonly store: LayerStore; readonly images: ImageResolver },
    ref: string,
    /** The build context that stands for the image, if one does. */
    private readonly context?: string,
  ) {
    this.spec = { kind: 'image', ref };
  }

  async cacheMap(): Promise<CacheMap<Ref>> {
    // The key is the image's content: retagging the name to another image changes it.
    const image = await this.deps.images.resolve(this.spec.ref, this.context);
    return { opDigest: digestOf({ kind: 'image', manifest: image.manifest }), inputs: [], explain: { fields: { [`image:${this.spec.ref}`]: image.manifest } } };
  }

  async execute(_inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const image = await this.deps.images.resolve(this.spec.ref, this.context);
    const { remote } = image;
    if (remote !== undefined) {
      let unpacked: Promise<SnapshotName> | undefined;
      // The chain is not empty (remote is only given for an image with layers).
      const unpack = async () => (await unpackImage(this.deps.store, await image.layers(), () => {}))!;
      return { lazy: { layers: await remote.layers(), fetch: (layer) => remote.fetch(layer), unpack: () => (unpacked ??= unpack()) } };
    }
    return { snapshot: await unpackImage(this.deps.store, await image.layers(), (m, done, total) => cx.status(m, done, total)) };
  }
}
