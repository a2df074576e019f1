/**
 * The image a solved build stands for: its layers (the snapshots along the target's chain),
 * its history (the bases' entries, then each stage's steps, timed by their layers) and config.
 */
import { fillHistoryTimes, type BuildPlan, type ImageConfig, type Platform, type StageGraph } from '../frontend/index.js';
import type { HistoryEntry } from '../oci/index.js';
import { layerCreated, layersOf, type Layer, type LazyChain, type Ref } from '../solver/ops/index.js';
import type { State } from './state.js';
import type { BaseImage } from './base-images.js';

export interface ImageResult {
  readonly config: ImageConfig;
  /** The image's `author` (MAINTAINER, or the base image's). */
  readonly author?: string;
  readonly platform: Platform;
  readonly history: readonly HistoryEntry[];
  /**
   * The image's layers: the snapshots of the target's chain, or, when the target hit an
   * imported cache and nothing unpacked it, that cache's chain (blobs not read yet).
   */
  readonly layers: readonly Layer[] | LazyChain;
  /** Top-level members the image config carries beside the spec's: the inline build cache (cache-inline.ts). */
  readonly configExtra?: Readonly<Record<string, unknown>>;
}

/** Whether the image's layers are still an imported cache's blobs only. */
export const isLazy = (layers: readonly Layer[] | LazyChain): layers is LazyChain => !Array.isArray(layers);

/** Where the history of the bases comes from. */
export interface HistorySources {
  image(ref: string): Promise<BaseImage>;
  /** A named context's entries; a directory's is `[]` and its layer is described by `unaccounted`. */
  named(key: string, unaccounted: string[]): Promise<readonly HistoryEntry[]>;
}

export async function imageResult(
  state: State,
  top: Ref,
  target: StageGraph,
  stages: ReadonlyMap<number, StageGraph>,
  plan: BuildPlan,
  labels: Readonly<Record<string, string>>,
  sources: HistorySources,
): Promise<ImageResult> {
  const layers = 'lazy' in top ? top.lazy : await layersOf(state, top.snapshot);
  const count = isLazy(layers) ? layers.layers.length : layers.length;
  const unaccounted: string[] = [];
  const history = await stageHistory(target, stages, sources, unaccounted);
  // A directory's layer has no history entry of its own: BuildKit's exporter appends one for
  // it after the others, described by the layer's origin.
  for (const description of unaccounted) history.push({ created_by: description, comment: 'buildkit.exporter.image.v0' });
  const layerEntries = history.filter((h) => h.empty_layer !== true).length;
  if (layerEntries !== count) {
    throw new Error(`internal: ${count} layers but ${layerEntries} history entries with a layer`);
  }
  // A lazy chain's times are the ones its steps recorded: those its snapshots would have.
  const layerTimes = isLazy(layers)
    ? layers.layers.map((l) => new Date(l.created))
    : await Promise.all(layers.map(async (l) => new Date(await layerCreated(state, l))));
  const stage = target.stage;
  const allLabels = { ...(stage.config.Labels ?? {}), ...labels };
  const config: ImageConfig = { ...stage.config, ...(Object.keys(allLabels).length > 0 ? { Labels: allLabels } : {}) };
  return {
    config,
    ...(stage.author === undefined ? {} : { author: stage.author }),
    platform: stage.platform ?? plan.targetPlatform,
    history: fillHistoryTimes(history, layerTimes),
    layers,
  };
}

/** The base's history, then the stage's own steps. Times are filled in once the layers are known. */
async function stageHistory(g: StageGraph, all: ReadonlyMap<number, StageGraph>, sources: HistorySources, unaccounted: string[]): Promise<HistoryEntry[]> {
  const base = g.stage.base;
  let before: HistoryEntry[] = [];
  if (base.kind === 'image') before = [...(await sources.image(base.ref)).history];
  else if (base.kind === 'named') before = [...(await sources.named(base.name, unaccounted))];
  else if (base.kind === 'stage') before = await stageHistory(all.get(base.stage)!, all, sources, unaccounted);
  return [
    ...before,
    ...g.history.map((h) => ({
      created_by: h.createdBy,
      comment: 'buildkit.dockerfile.v0',
      ...(h.layer ? {} : { empty_layer: true }),
    })),
  ];
}
