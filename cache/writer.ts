/**
 * One cache export to one destination, fed while the build runs: each backend's `begin…`
 * function opens it, `putBlob` stores a layer blob as soon as its step has committed, and
 * `finish` writes what is left (blobs not put yet, the config, and the manifest — or gha's index
 * entry) once the build is done. Until `finish`, nothing names the new cache, so a build that
 * fails or is aborted calls `abort` and leaves no half-written cache behind.
 */
import type { Descriptor } from '../oci/index.js';
import type { EncodedCache } from './format.js';

/** What `putBlob` did with a blob. */
export type PutOutcome =
  /** Sent to the destination now. */
  | 'stored'
  /** Known to be there already (the destination lists it, or an import from it did): not sent. */
  | 'present'
  /** Held back to go with `finish` (gha packs small blobs into one entry). */
  | 'deferred';

/** What an export did, for its progress line and warnings. */
export interface CacheWriteSummary {
  /** A status line of the export step (`id`, `current`), e.g. gha's request count. */
  readonly status?: { readonly id: string; readonly current: number };
  /** Something the user should know that is no failure (gha: a token that may not write). */
  readonly warning?: string;
}

export interface CacheWriter {
  /** Stores one layer blob; it may be called for several blobs at once. */
  putBlob(blob: Descriptor): Promise<PutOutcome>;
  /**
   * Once every `putBlob` has settled: stores the layers of `cache` not put yet, then its config
   * and manifest, which make the new cache visible.
   */
  finish(cache: EncodedCache): Promise<CacheWriteSummary>;
  /** The build failed: nothing is made visible, and temporary files are removed. */
  abort(): Promise<void>;
}
