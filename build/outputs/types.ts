/** The outputs of a build as resolved from the command line, and what exporting them reports. */
import type { LayerFormat } from '../../exporter/index.js';

export type Output =
  /** Into the local store; with `push`, pushed to the names' registries too (in that layer format). */
  | { readonly type: 'image'; readonly names: readonly string[]; readonly push?: LayerFormat }
  | { readonly type: 'oci'; readonly dest: string; readonly tar: boolean; readonly names: readonly string[]; readonly format: LayerFormat }
  | { readonly type: 'docker'; readonly dest: string; readonly names: readonly string[]; readonly format: LayerFormat }
  | { readonly type: 'local'; readonly dest: string }
  | { readonly type: 'tar'; readonly dest: string }
  | { readonly type: 'registry'; readonly names: readonly string[]; readonly format: LayerFormat };

/** One output of a given type. */
export type OutputOf<T extends Output['type']> = Extract<Output, { readonly type: T }>;

/**
 * What the outputs report, in BuildKit's exporter-response keys: `containerimage.digest` (the
 * manifest written or pushed), `containerimage.config.digest` (the image ID),
 * `containerimage.descriptor` (the manifest's descriptor, base64 of its JSON) and `image.name`
 * (the names, comma-separated). As BuildKit merges the responses of several exporters, a later
 * output's value of a key replaces an earlier one's.
 */
export type ExporterResponse = Readonly<Record<string, string>>;

/**
 * The one key of tsbuild's own beside BuildKit's: the image's size, its layers' blobs as written
 * or pushed (compressed), in bytes. The GitHub Action's job summary shows it.
 */
export const IMAGE_SIZE_KEY = 'tsbuild.image.size';

export interface Written {
  readonly response: ExporterResponse;
}
