/**
 * The images a build starts from (FROM, COPY --from, RUN --mount from=, image build contexts):
 * found in the local store, or pulled from their registry once and kept there, and checked to
 * be of the platform they are built for.
 */
import { BuildError } from '../errors/index.js';
import { formatPlatform, type ImageConfig, type Platform } from '../frontend/index.js';
import { isImageError } from '../images/index.js';
import { readImageConfig } from '../images/index.js';
import { type HistoryEntry } from '../oci/index.js';
import { sha256, type EventSink } from '../solver/core/index.js';
import { formatReference, parseReference } from '../images/index.js';
import type { State } from './state.js';
import { pullToStore, type RegistryAccess } from './pull.js';

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

export class BaseImages {
  private readonly known = new Map<string, BaseImage>();
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
    if (this.alwaysPull) await this.pull(ref, platform);
    let image;
    try {
      image = await state.images.resolveImage(ref);
    } catch (e) {
      if (!isImageError(e, 'IMAGE_NOT_FOUND') || this.alwaysPull) throw e;
      // Not here: like BuildKit, resolve it in its registry now and keep it, so that the next
      // build uses the same image without asking the registry again (unless --pull).
      await this.pull(ref, platform);
      image = await state.images.resolveImage(ref);
    }
    let parsedConfig = await readImageConfig(state.content, image);
    if (!this.alwaysPull && !samePlatform(parsedConfig, platform)) {
      // The name is kept for another platform: this one comes from the registry (and the
      // name then follows it, as with `docker pull --platform`).
      const have = formatPlatform(parsedConfig);
      try {
        await this.pull(ref, platform);
      } catch (e) {
        if (e instanceof BuildError) {
          throw new BuildError(e.code, `${ref} in the local store is ${have}, not ${formatPlatform(platform)}, and pulling it failed: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
        }
        throw e;
      }
      image = await state.images.resolveImage(ref);
      parsedConfig = await readImageConfig(state.content, image);
    }
    // Also after a pull: a registry's single-platform image may be another platform's.
    requirePlatform(ref, parsedConfig, platform);
    const base = baseImageOf(parsedConfig.raw);
    this.known.set(key, base);
    return base;
  }

  /** Pulls `ref` into the store, shown as a step of its own. */
  private async pull(ref: string, platform: Platform): Promise<void> {
    const digest = sha256(`pull ${ref}`);
    const name = `[internal] pull ${formatReference(parseReference(ref))}`;
    this.events({ kind: 'vertex', digest, name, state: 'started', at: Date.now() });
    try {
      await pullToStore(this.state, ref, platform, this.access);
    } catch (e) {
      this.events({ kind: 'vertex', digest, name, state: 'failed', at: Date.now(), error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    this.events({ kind: 'vertex', digest, name, state: 'done', at: Date.now() });
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
