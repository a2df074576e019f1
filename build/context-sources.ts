/**
 * The named build contexts as a build uses them: directories (with their own .dockerignore, as
 * BuildKit reads it) and images (from the store, a registry or an OCI layout), each image
 * resolved once, when the plan or a step first needs it.
 */
import { compileMatcher, readIgnorePatterns, type NamedContextKind, type Platform } from '../frontend/index.js';
import { readImageConfig } from '../images/index.js';
import type { LocalContext } from '../solver/ops/index.js';
import type { State } from './state.js';
import { baseImageOf, requirePlatform, type BaseImage, type BaseImageSource, type BaseImages } from './base-images.js';
import { importOciLayout, type BuildContextSpec } from './named-contexts.js';
import type { StatCaches } from './stat-caches.js';

/** A named context as the graph and the ops see it: its kind, an image's label, a directory's files. */
export interface NamedContext {
  readonly kind: NamedContextKind;
  readonly label?: string;
  readonly context?: LocalContext;
}

export class ContextSources {
  /** The named contexts by key. */
  readonly sources = new Map<string, NamedContext>();
  private readonly images = new Map<string, Promise<{ source: BaseImageSource; base: BaseImage }>>();

  private constructor(
    private readonly state: State,
    private readonly specs: ReadonlyMap<string, BuildContextSpec>,
    private readonly bases: BaseImages,
  ) {}

  static async open(state: State, specs: ReadonlyMap<string, BuildContextSpec>, bases: BaseImages, statCaches: StatCaches): Promise<ContextSources> {
    const c = new ContextSources(state, specs, bases);
    for (const [key, spec] of specs) {
      switch (spec.kind) {
        case 'local': {
          const patterns = await readIgnorePatterns(undefined, spec.dir);
          const context: LocalContext = {
            dir: spec.dir,
            ...(patterns.length > 0 ? { ignore: compileMatcher(patterns) } : {}),
            statCache: statCaches.of(spec.dir),
          };
          c.sources.set(key, { kind: 'local', context });
          break;
        }
        case 'scratch':
          c.sources.set(key, { kind: 'scratch' });
          break;
        case 'image':
        case 'oci-layout': {
          const label = spec.kind === 'image' ? spec.ref : `oci-layout://${spec.dir}`;
          c.sources.set(key, { kind: 'image', label });
          break;
        }
      }
    }
    return c;
  }

  /** The base image a context that is an image stands for; undefined for a directory or scratch. */
  async base(key: string, platform: Platform): Promise<BaseImage | undefined> {
    const kind = this.specs.get(key)?.kind;
    return kind === 'image' || kind === 'oci-layout' ? (await this.image(key, platform)).base : undefined;
  }

  /** The image a context that is an image stands for, for `platform`. */
  async source(key: string, platform: Platform): Promise<BaseImageSource> {
    return (await this.image(key, platform)).source;
  }

  private image(key: string, platform: Platform): Promise<{ source: BaseImageSource; base: BaseImage }> {
    let p = this.images.get(key);
    if (p === undefined) {
      p = this.resolveImage(key, platform);
      this.images.set(key, p);
    }
    return p;
  }

  private async resolveImage(key: string, platform: Platform): Promise<{ source: BaseImageSource; base: BaseImage }> {
    const { state } = this;
    const spec = this.specs.get(key)!;
    let source: BaseImageSource;
    if (spec.kind === 'image') {
      await this.bases.load(spec.ref, platform);
      source = await this.bases.source(spec.ref);
    } else if (spec.kind === 'oci-layout') {
      source = { blobs: await importOciLayout(state.content, spec, platform) };
    } else {
      throw new Error(`internal: build context ${key} is no image`);
    }
    const parsedConfig = await readImageConfig(state.content, source.blobs);
    requirePlatform(spec.kind === 'image' ? spec.ref : `oci-layout://${spec.dir}`, parsedConfig, platform);
    return { source, base: baseImageOf(parsedConfig.raw) };
  }
}
