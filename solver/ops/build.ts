/**
 * One build, end to end below the CLI: parse, plan, graph, solve, and the image that
 * results (config, history, layers). Outputs are written by the caller from what this returns.
 */
import { BuildError, type SourceRange } from '../../errors/index.js';
import { compileMatcher, readIgnorePatterns, type Matcher } from '../../frontend/dockerignore/index.js';
import { parseDockerfile, planBuild, type BuildPlan, type ImageConfig, type Platform } from '../../frontend/index.js';
import { isExporterError, readImageConfig, type HistoryEntry } from '../../exporter/index.js';
import { Solver, VertexError, sha256, type EventSink, type Vertex } from '../core/index.js';
import { credentialsFor, formatReference, parseReference, pullImage } from '../../registry/index.js';
import type { StatCache } from './context/index.js';
import type { SecretSources, SshSources } from './exec-mounts.js';
import { buildGraph, type StageGraph } from './graph.js';
import { layersOf, type Layer } from './layers.js';
import type { OpEnv } from './ops.js';
import { CacheIndex } from './records.js';
import type { Ref } from './ref.js';
import type { State } from './state.js';

export interface BuildRequest {
  readonly state: State;
  readonly dockerfile: Uint8Array;
  /** How errors name the Dockerfile. */
  readonly dockerfileName: string;
  /** The Dockerfile's path on disk (for Dockerfile.dockerignore), if it has one. */
  readonly dockerfilePath?: string;
  readonly contextDir: string;
  readonly target?: string;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly platform?: Platform;
  readonly labels: Readonly<Record<string, string>>;
  readonly noCache: boolean;
  /** Resolve FROM images in their registry even when the local store has the name. */
  readonly pull: boolean;
  /** Registries reached over plain HTTP although not on loopback. */
  readonly insecureRegistries: readonly string[];
  /** Extra CAs (PEM) by registry host, trusted beside the system's. */
  readonly registryCAs: ReadonlyMap<string, string>;
  /** Where registry credentials are looked up ($DOCKER_CONFIG, $HOME). */
  readonly env: NodeJS.ProcessEnv;
  readonly noCacheFilter: readonly string[];
  readonly network: 'default' | 'none' | 'host';
  /** --secret: a reader per secret id (read only by the steps that mount it). */
  readonly secrets?: SecretSources;
  /** --ssh: agent socket paths by id. */
  readonly ssh?: SshSources;
  readonly events: EventSink;
  readonly warn: (message: string, where?: string) => void;
  readonly signal: AbortSignal;
}

export interface BuiltImage {
  readonly config: ImageConfig;
  readonly platform: Platform;
  readonly history: readonly HistoryEntry[];
  readonly layers: readonly Layer[];
  readonly plan: BuildPlan;
}

/** What a stage takes from a base image: its config and its history. */
interface BaseImage {
  readonly config: ImageConfig;
  readonly history: readonly HistoryEntry[];
}

export async function build(req: BuildRequest): Promise<BuiltImage> {
  const { state } = req;
  const parsed = parseDockerfile(req.dockerfile, { file: req.dockerfileName });
  for (const w of parsed.ast.warnings) req.warn(w.message, `${w.range.file}:${w.range.start.line}`);

  const bases = new Map<string, BaseImage>();
  /** A FROM image missing here (or every one, with --pull) comes from its registry once. */
  const pullInto = async (ref: string, platform: Platform): Promise<void> => {
    const parsed = parseReference(ref);
    const digest = sha256(`pull ${ref}`);
    const name = `[internal] pull ${formatReference(parsed)}`;
    req.events({ kind: 'vertex', digest, name, state: 'started', at: Date.now() });
    try {
      const credentials = await credentialsFor(parsed.domain, req.env);
      const pulled = await pullImage(parsed, platform, state.content, {
        insecure: req.insecureRegistries,
        ca: req.registryCAs,
        ...(credentials === undefined ? {} : { credentials }),
      });
      await state.images.tagImage(ref, pulled.manifest);
    } catch (e) {
      req.events({ kind: 'vertex', digest, name, state: 'failed', at: Date.now(), error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    req.events({ kind: 'vertex', digest, name, state: 'done', at: Date.now() });
  };
  const loadBase = async (ref: string, platform: Platform): Promise<BaseImage> => {
    const known = bases.get(ref);
    if (known !== undefined) return known;
    parseReference(ref); // a malformed name is the Dockerfile's error, before any lookup
    if (req.pull) await pullInto(ref, platform);
    let image;
    try {
      image = await state.images.resolveImage(ref);
    } catch (e) {
      if (!isExporterError(e, 'IMAGE_NOT_FOUND') || req.pull) throw e;
      // Not here: like BuildKit, resolve it in its registry now and keep it, so that the next
      // build uses the same image without asking the registry again (unless --pull).
      await pullInto(ref, platform);
      image = await state.images.resolveImage(ref);
    }
    const { raw } = await readImageConfig(state.content, image);
    const base: BaseImage = {
      config: (raw['config'] as ImageConfig | undefined) ?? {},
      history: (raw['history'] as HistoryEntry[] | undefined) ?? [],
    };
    bases.set(ref, base);
    return base;
  };

  const plan = await planBuild(parsed.ast, {
    buildArgs: req.buildArgs,
    ...(req.target === undefined ? {} : { target: req.target }),
    ...(req.platform === undefined ? {} : { targetPlatform: req.platform }),
    resolveImage: async (ref, platform) => (await loadBase(ref, platform)).config,
  });
  for (const w of plan.warnings) req.warn(w.message, w.range === undefined ? undefined : `${w.range.file}:${w.range.start.line}`);

  let ignore: Matcher | undefined;
  const patterns = await readIgnorePatterns(req.dockerfilePath, req.contextDir);
  if (patterns.length > 0) ignore = compileMatcher(patterns);
  // One stat cache per context directory, opened only if a step reads the context.
  let statCache: Promise<StatCache> | undefined;
  const openStatCache = () =>
    (statCache ??= import('./context/index.js').then(({ StatCache }) => StatCache.open(state.statCacheFile(req.contextDir))));
  const env: OpEnv = {
    state,
    contextDir: req.contextDir,
    ...(ignore === undefined ? {} : { ignore }),
    statCache: openStatCache,
    proxyEnv: plan.proxyEnv,
    network: req.network,
    ...(req.secrets === undefined ? {} : { secrets: req.secrets }),
    ...(req.ssh === undefined ? {} : { ssh: req.ssh }),
  };
  const graph = buildGraph(plan, env);

  const noCacheStages = new Set(req.noCacheFilter.map((s) => s.toLowerCase()));
  const stageOf = new Map<Vertex<Ref>, string | undefined>();
  for (const g of graph.stages.values()) stageOf.set(g.top, g.stage.name);
  const solver = new Solver<Ref>({
    cache: new CacheIndex(state.cacheDir, state.snapshots),
    events: req.events,
    ignoreCache: (v) => req.noCache || (noCacheStages.size > 0 && inFilteredStage(v, graph.stages, noCacheStages)),
  });
  let top: Ref;
  try {
    top = await solver.solve(graph.target.top, req.signal);
  } catch (e) {
    throw located(e);
  } finally {
    if (statCache !== undefined) await (await statCache).save().catch(() => {});
  }

  const layers = await layersOf(state, top.snapshot);
  const history = await stageHistory(graph.target, graph.stages, (ref) => loadBase(ref, plan.targetPlatform));
  const layerEntries = history.filter((h) => h.empty_layer !== true).length;
  if (layerEntries !== layers.length) {
    throw new Error(`internal: ${layers.length} layers but ${layerEntries} history entries with a layer`);
  }
  const stagePlatform = graph.target.stage.platform;
  const platform = stagePlatform ?? plan.targetPlatform;
  const labels = { ...(graph.target.stage.config.Labels ?? {}), ...req.labels };
  const config: ImageConfig = {
    ...graph.target.stage.config,
    ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
  };
  return { config, platform, history, layers, plan };
}

/** The base's history, then the stage's own steps. */
async function stageHistory(
  g: StageGraph,
  all: ReadonlyMap<number, StageGraph>,
  loadBase: (ref: string) => Promise<BaseImage>,
): Promise<HistoryEntry[]> {
  const base = g.stage.base;
  let before: HistoryEntry[] = [];
  if (base.kind === 'image') before = [...(await loadBase(base.ref)).history];
  else if (base.kind === 'stage') before = await stageHistory(all.get(base.stage)!, all, loadBase);
  const now = new Date();
  return [
    ...before,
    ...g.history.map((h) => ({
      created: now,
      created_by: h.createdBy,
      comment: 'buildkit.dockerfile.v0',
      ...(h.layer ? {} : { empty_layer: true }),
    })),
  ];
}

function inFilteredStage(v: Vertex<Ref>, stages: ReadonlyMap<number, StageGraph>, names: ReadonlySet<string>): boolean {
  for (const g of stages.values()) {
    if (g.stage.name === undefined || !names.has(g.stage.name)) continue;
    // A vertex belongs to the stage if it is on the stage's chain above its base.
    for (let t: Vertex<Ref> | undefined = g.top; t !== undefined; t = t.inputs[0]) {
      if (t === v) return true;
    }
  }
  return false;
}

/** A solver failure as the user should see it: the step's Dockerfile range and its name. */
function located(e: unknown): unknown {
  if (!(e instanceof VertexError)) return e;
  const cause = e.cause;
  const range = e.origin as SourceRange | undefined;
  if (cause instanceof BuildError) {
    if (cause.range !== undefined) return cause;
    return new BuildError(cause.code, `${e.vertexName}: ${cause.message}`, {
      ...(cause.hint === undefined ? {} : { hint: cause.hint }),
      ...(range === undefined ? {} : { range }),
    }, { cause });
  }
  return new BuildError('IO', `${e.vertexName}: ${e.message}`, range === undefined ? {} : { range }, { cause });
}
