/**
 * The images a build starts from (FROM, COPY --from, RUN --mount from=, image build contexts):
 * found in the local store, or resolved in their registry, and checked to be of the platform
 * they are built for. A resolved image's layers are fetched only when something needs them (a
 * step that runs on its files, an output that needs its blobs), as BuildKit does; once all are
 * here, the image is named in the local store, so that the next build uses the same image
 * without asking the registry again (unless --pull).
 */
import { BuildError } from '../errors/index.js';
import { formatPlatform, type ImageConfig, type Platform } from '../frontend/index.js';
import { isImageError } from '../images/index.js';
import { readImageConfig } from '../images/index.js';
import { type Descriptor, type HistoryEntry } from '../oci/index.js';
import type { ImageBlobs } from '../images/index.js';
import { sha256, type EventSink } from '../solver/core/index.js';
import { formatReference, parseReference } from '../images/index.js';
import type { State } from './state.js';
import { resolveInRegistry, type RegistryAccess } from './pull.js';

/** What a stage takes from a base image: its config, author and history. */
export interface BaseImage {
  readonly config: ImageConfig;
  readonly author?: string;
  readonly history: readonly HistoryEntry[];
}

export function baseImageOf(raw: Record<string, unknown>): BaseImage {
  const author = raw['author'];
  return {
    config: (raw['config'] as ImageConfig | undefined) ?? {},
    ...(typeof author === 'string' && author !== '' ? { author } : {}),
    history: (raw['history'] as HistoryEntry[] | undefined) ?? [],
  };
}

/** An image as this build uses it: its blobs, and while some layer is not here, how to fetch one. */
export interface BaseImageSource {
  readonly blobs: ImageBlobs;
  /** Present while a layer is missing from the content store: copies one there (verified). */
  readonly fetchLayer?: (layer: Descriptor) => Promise<void>;
}

export class BaseImages {
  private readonly known = new Map<string, BaseImage>();
  /** The images this build resolved in their registry, by reference (the store names them once whole). */
  private readonly resolved = new Map<string, BaseImageSource>();
  constructor(
    private readonly state: State,
    private readonly access: RegistryAccess,
    /** --pull: resolve every image in its registry even when the local store has the name. */
    private readonly alwaysPull: boolean,
    private readonly events: EventSink,
  ) {}

  /** The base image `ref` for `platform`, pulled first when the store lacks it (or always, with --pull). */
  async load(ref: string, platform: Platform): Promise<BaseImage> {
    const key = `${ref}\0${formatPlatform(platform)}`;
    const known = this.known.get(key);
    if (known !== undefined) return known;
    parseReference(ref); // a malformed name is the Dockerfile's error, before any lookup
    const { state } = this;
    let image: ImageBlobs;
    if (this.alwaysPull) image = await this.pull(ref, platform);
    else {
      try {
        image = await state.images.resolveImage(ref);
      } catch (e) {
        if (!isImageError(e, 'IMAGE_NOT_FOUND')) throw e;
        // Not here: like BuildKit, resolve it in its registry now.
        image = await this.pull(ref, platform);
      }
    }
    let parsedConfig = await readImageConfig(state.content, image);
    if (!this.alwaysPull && !samePlatform(parsedConfig, platform)) {
      // The name is kept for another platform: this one comes from the registry (and the
      // name then follows it, as with `docker pull --platform`).
      const have = formatPlatform(parsedConfig);
      try {
        image = await this.pull(ref, platform);
      } catch (e) {
        if (e instanceof BuildError) {
          throw new BuildError(e.code, `${ref} in the local store is ${have}, not ${formatPlatform(platform)}, and pulling it failed: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
        }
        throw e;
      }
      parsedConfig = await readImageConfig(state.content, image);
    }
    // Also after a pull: a registry's single-platform image may be another platform's.
    requirePlatform(ref, parsedConfig, platform);
    const base = baseImageOf(parsedConfig.raw);
    this.known.set(key, base);
    return base;
  }

  /** The image `ref` names in this build: the one resolved in its registry, else the local store's. */
  async source(ref: string): Promise<BaseImageSource> {
    return this.resolved.get(ref) ?? { blobs: await this.state.images.resolveImage(ref) };
  }

  /** Resolves `ref` in its registry (manifest and config; layers on demand), shown as a step of its own. */
  private async pull(ref: string, platform: Platform): Promise<ImageBlobs> {
    const digest = sha256(`pull ${ref}`);
    const name = `[internal] pull ${formatReference(parseReference(ref))}`;
    this.events({ kind: 'vertex', digest, name, state: 'started', at: Date.now() });
    let source: BaseImageSource;
    try {
      source = await this.resolve(ref, platform);
    } catch (e) {
      this.events({ kind: 'vertex', digest, name, state: 'failed', at: Date.now(), error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    this.resolved.set(ref, source);
    this.events({ kind: 'vertex', digest, name, state: 'done', at: Date.now() });
    return source.blobs;
  }

  private async resolve(ref: string, platform: Platform): Promise<BaseImageSource> {
    const { state } = this;
    const remote = await resolveInRegistry(state, ref, platform, this.access);
    const blobs: ImageBlobs = { manifest: remote.manifest, config: remote.config, layers: remote.layers };
    const missing = new Set<string>();
    for (const layer of remote.layers) if (!(await state.content.has(layer.digest))) missing.add(layer.digest);
    if (missing.size === 0) {
      await state.images.tagImage(ref, remote.manifest);
      return { blobs };
    }
    let named: Promise<void> | undefined;
    // Once per layer: an unpack and an output may ask for the same one at once.
    const fetching = new Map<string, Promise<void>>();
    const fetchOnce = async (layer: Descriptor) => {
      await remote.fetchLayer(layer);
      missing.delete(layer.digest);
      if (missing.size === 0) await (named ??= state.images.tagImage(ref, remote.manifest));
    };
    return {
      blobs,
      fetchLayer: (layer) => {
        let p = fetching.get(layer.digest);
        if (p === undefined) {
          p = fetchOnce(layer);
          fetching.set(layer.digest, p);
          p.catch(() => fetching.delete(layer.digest)); // a failed fetch may be tried again
        }
        return p;
      },
    };
  }
}

/** A base image must be of the platform its stage is built for; it never runs as another's. */
export function requirePlatform(label: string, image: { readonly os: string; readonly architecture: string; readonly variant?: string }, want: Platform): void {
  if (samePlatform(image, want)) return;
  const has = formatPlatform({ os: image.os, architecture: image.architecture, ...(image.variant === undefined ? {} : { variant: image.variant }) });
  throw new BuildError('PLATFORM_MISMATCH', `${label} is an image for ${has}, not ${formatPlatform(want)}`, {
    hint: `the image has only ${has}: build for it with --platform ${has}, or use an image that has ${formatPlatform(want)}`,
  });
}

/** An image fits the platform when OS and architecture agree, and the variant where both name one. */
function samePlatform(image: { readonly os: string; readonly architecture: string; readonly variant?: string }, want: Platform): boolean {
  if (image.os !== want.os || image.architecture !== want.architecture) return false;
  return image.variant === undefined || image.variant === '' || want.variant === undefined || want.variant === '' || image.variant === want.variant;
}
