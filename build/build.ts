/**
 * One build, end to end below the CLI: parse, plan, graph, solve, and the image that
 * results (config, history, layers). Outputs are written by the caller from what this returns.
 */
import { BuildError, type SourceRange } from '../errors/index.js';
import { compileMatcher, readIgnorePatterns, type Matcher, formatPlatform, hostPlatform, parseDockerfile, planBuild, type BuildPlan, type ImageConfig, type Platform } from '../frontend/index.js';
import { isImageError, readImageConfig, type ImageBlobs } from '../images/index.js';
import type { HistoryEntry } from '../oci/index.js';
import { Solver, VertexError, sha256, type EventSink, type Vertex } from '../solver/core/index.js';
import { NetworkPool } from '../executor/index.js';
import { formatReference, parseReference } from '../registry/index.js';
import { pullToStore } from './pull.js';
import {
  type StatCache,
  openStatCache,
  type Entitlement,
  type SecretSources,
  type SshSources,
  buildGraph,
  type StageGraph,
  fillHistoryTimes,
  layerOf,
  layersOf,
  type Layer,
  ExecOp,
  type LocalContext,
  type NamedSource,
  type OpEnv,
  dropCacheMounts,
  OnPlatform,
  CacheIndex,
  recordSnapshotUse,
  type Ref,
  type State,
} from '../solver/ops/index.js';
import { importOciLayout, contextKey, type BuildContextSpec } from './named-contexts.js';
import type { SnapshotName } from '../snapshotter/index.js';

export interface BuildRequest {
  readonly state: State;
  readonly dockerfile: Uint8Array;
  /** How errors name the Dockerfile. */
  readonly dockerfileName: string;
  /** The Dockerfile's path on disk (for Dockerfile.dockerignore), if it has one. */
  readonly dockerfilePath?: string;
  readonly contextDir: string;
  /** `--build-context`s by key (see contextKey). */
  readonly buildContexts?: ReadonlyMap<string, BuildContextSpec>;
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
  /** --allow: the entitlements granted. */
  readonly entitlements?: ReadonlySet<Entitlement>;
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
  /** The image's `author` (MAINTAINER, or the base image's). */
  readonly author?: string;
  readonly platform: Platform;
  readonly history: readonly HistoryEntry[];
  readonly layers: readonly Layer[];
  readonly plan: BuildPlan;
  /**
   * Resolves once every process the build started outside its steps (RUN's network holders
   * and stacks) has exited; never rejects. They were told to stop when the solve ended, but
   * the kernel takes some 20 ms to tear a stack's tap device down: the caller writes its
   * outputs meanwhile and waits for this before it returns, so that nothing outlives it.
   */
  readonly exited: Promise<void>;
}

/** What a stage takes from a base image: its config, author and history. */
interface BaseImage {
  readonly config: ImageConfig;
  readonly author?: string;
  readonly history: readonly HistoryEntry[];
}

function baseImageOf(raw: Record<string, unknown>): BaseImage {
  const author = raw['author'];
  return {
    config: (raw['config'] as ImageConfig | undefined) ?? {},
    ...(typeof author === 'string' && author !== '' ? { author } : {}),
    history: (raw['history'] as HistoryEntry[] | undefined) ?? [],
  };
}

export async function build(req: BuildRequest): Promise<BuiltImage> {
  const { state } = req;
  const parsed = parseDockerfile(req.dockerfile, { file: req.dockerfileName });

  const bases = new Map<string, BaseImage>();
  /** A FROM image missing here (or every one, with --pull) comes from its registry once. */
  const pullInto = async (ref: string, platform: Platform): Promise<void> => {
    const parsed = parseReference(ref);
    const digest = sha256(`pull ${ref}`);
    const name = `[internal] pull ${formatReference(parsed)}`;
    req.events({ kind: 'vertex', digest, name, state: 'started', at: Date.now() });
    try {
      await pullToStore(state, ref, platform, { insecure: req.insecureRegistries, ca: req.registryCAs, env: req.env });
    } catch (e) {
      req.events({ kind: 'vertex', digest, name, state: 'failed', at: Date.now(), error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    req.events({ kind: 'vertex', digest, name, state: 'done', at: Date.now() });
  };
  const loadBase = async (ref: string, platform: Platform): Promise<BaseImage> => {
    const key = `${ref}\0${formatPlatform(platform)}`;
    const known = bases.get(key);
    if (known !== undefined) return known;
    parseReference(ref); // a malformed name is the Dockerfile's error, before any lookup
    if (req.pull) await pullInto(ref, platform);
    let image;
    try {
      image = await state.images.resolveImage(ref);
    } catch (e) {
      if (!isImageError(e, 'IMAGE_NOT_FOUND') || req.pull) throw e;
      // Not here: like BuildKit, resolve it in its registry now and keep it, so that the next
      // build uses the same image without asking the registry again (unless --pull).
      await pullInto(ref, platform);
      image = await state.images.resolveImage(ref);
    }
    let parsedConfig = await readImageConfig(state.content, image);
    if (!req.pull && !samePlatform(parsedConfig, platform)) {
      // The name is kept for another platform: this one comes from the registry (and the
      // name then follows it, as with `docker pull --platform`).
      const have = formatPlatform(parsedConfig);
      try {
        await pullInto(ref, platform);
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
    bases.set(key, base);
    return base;
  };

  // One stat cache per context directory, opened only if a step reads the context.
  const statCaches = new Map<string, Promise<StatCache>>();
  const statCacheOf = (dir: string) => () => {
    let c = statCaches.get(dir);
    if (c === undefined) {
      c = openStatCache(state.statCacheFile(dir));
      statCaches.set(dir, c);
    }
    return c;
  };

  // The named contexts: directories with their own .dockerignore (as BuildKit reads it), and
  // images, resolved (and pulled or imported) once, when the plan first needs them.
  const named = new Map<string, NamedSource>();
  const namedImages = new Map<string, Promise<{ blobs: ImageBlobs; base: BaseImage }>>();
  const contextImage = (key: string, platform: Platform) => {
    let p = namedImages.get(key);
    if (p === undefined) {
      const spec = req.buildContexts!.get(key)!;
      p = (async () => {
        let blobs: ImageBlobs;
        if (spec.kind === 'image') {
          await loadBase(spec.ref, platform);
          blobs = await state.images.resolveImage(spec.ref);
        } else if (spec.kind === 'oci-layout') {
          blobs = await importOciLayout(state.content, spec, platform);
        } else {
          throw new Error(`internal: build context ${key} is no image`);
        }
        const parsedConfig = await readImageConfig(state.content, blobs);
        requirePlatform(spec.kind === 'image' ? spec.ref : `oci-layout://${spec.dir}`, parsedConfig, platform);
        return { blobs, base: baseImageOf(parsedConfig.raw) };
      })();
      namedImages.set(key, p);
    }
    return p;
  };
  const namedBase = async (key: string, platform: Platform): Promise<BaseImage | undefined> => {
    const kind = req.buildContexts?.get(key)?.kind;
    return kind === 'image' || kind === 'oci-layout' ? (await contextImage(key, platform)).base : undefined;
  };
  for (const [key, spec] of req.buildContexts ?? []) {
    switch (spec.kind) {
      case 'local': {
        const patterns = await readIgnorePatterns(undefined, spec.dir);
        const context: LocalContext = {
          dir: spec.dir,
          ...(patterns.length > 0 ? { ignore: compileMatcher(patterns) } : {}),
          statCache: statCacheOf(spec.dir),
        };
        named.set(key, { kind: 'local', context });
        break;
      }
      case 'scratch':
        named.set(key, { kind: 'scratch' });
        break;
      case 'image':
      case 'oci-layout': {
        const label = spec.kind === 'image' ? spec.ref : `oci-layout://${spec.dir}`;
        named.set(key, { kind: 'image', label, resolve: async () => (await contextImage(key, req.platform ?? hostPlatform())).blobs });
        break;
      }
    }
  }

  const plan = await planBuild(parsed.ast, {
    buildArgs: req.buildArgs,
    ...(req.target === undefined ? {} : { target: req.target }),
    ...(req.platform === undefined ? {} : { targetPlatform: req.platform }),
    resolveImage: async (ref, platform) => loadBase(ref, platform),
    ...(named.size === 0
      ? {}
      : {
          namedContexts: {
            match: (name: string) => {
              const key = contextKey(name);
              return key !== undefined && named.has(key) ? key : undefined;
            },
            image: async (key: string, platform: Platform) => namedBase(key, platform),
          },
        }),
  });
  for (const w of plan.warnings) req.warn(w.message, w.range === undefined ? undefined : `${w.range.file}:${w.range.start.line}`);
  // Images that COPY --from and RUN --mount from= read are had (pulled, imported) before the
  // solve, as FROM images are while planning.
  for (const stage of plan.stages) {
    for (const step of stage.steps) {
      for (const ref of [step.from, ...(step.mounts ?? []).map((m) => m.source)]) {
        try {
          if (ref?.kind === 'image') await loadBase(ref.ref, plan.targetPlatform);
          else if (ref?.kind === 'named') await namedBase(ref.name, plan.targetPlatform);
        } catch (e) {
          // A bad or missing image is the instruction's error: point at it.
          if (e instanceof BuildError && e.range === undefined) throw e.at(step.instruction.range);
          throw e;
        }
      }
    }
  }

  let ignore: Matcher | undefined;
  const patterns = await readIgnorePatterns(req.dockerfilePath, req.contextDir);
  if (patterns.length > 0) ignore = compileMatcher(patterns);
  // RUN's isolated network: nothing starts until a step on the default network runs.
  const networks = new NetworkPool();
  const env: OpEnv = {
    state,
    contextDir: req.contextDir,
    ...(ignore === undefined ? {} : { ignore }),
    statCache: statCacheOf(req.contextDir),
    named,
    proxyEnv: plan.proxyEnv,
    network: req.network,
    networks,
    ...(req.entitlements === undefined ? {} : { entitlements: req.entitlements }),
    ...(req.secrets === undefined ? {} : { secrets: req.secrets }),
    ...(req.ssh === undefined ? {} : { ssh: req.ssh }),
  };
  const graph = buildGraph(plan, env);

  // --no-cache-filter: the RUN/COPY/ADD steps of the named stages (names compared without
  // case, as BuildKit does); the solver runs their dependents again too.
  const noCacheStages = new Set(req.noCacheFilter.map((s) => s.toLowerCase()));
  const ignored = new Set<Vertex<Ref>>();
  for (const g of graph.stages.values()) {
    if (g.stage.name !== undefined && noCacheStages.has(g.stage.name.toLowerCase())) for (const v of g.cacheableSteps) ignored.add(v);
  }
  // The image's layers are the snapshots made along the target's chain of roots: each one's
  // diff id is computed as soon as it is committed, beside the steps that follow.
  const targetChain = new Set(rootChain(graph.target.top));
  const ignoreCache = (v: Vertex<Ref>) => req.noCache || ignored.has(v);
  // A RUN on the isolated network that runs whatever the cache holds: its network starts now,
  // beside the work before it. Otherwise the first step that needs one starts it, so that a
  // build whose steps all come from the cache starts none.
  const uncached = uncachedRuns(graph.target.top, ignoreCache);
  if (uncached.some((op) => op.network === 'default')) networks.prepare();
  // As BuildKit does, the cache mounts of the steps run without their cache start empty.
  await dropCacheMounts(state.cacheMountsDir, uncached.flatMap((op) => op.cacheMountIds()));
  const used = new Set<SnapshotName>();
  const solver = new Solver<Ref>({
    cache: new CacheIndex(state.cacheDir, state.snapshots, used),
    events: req.events,
    ignoreCache,
    onExecuted: (v, ref) => {
      const snapshot = ref.snapshot;
      if (snapshot === null || !targetChain.has(v)) return;
      // After the promise jobs that start the next step: its process runs while this hashes.
      setImmediate(() => layerOf(state, snapshot).catch(() => {}));
    },
  });
  let top: Ref;
  // After a build that succeeded, the networks' teardown overlaps the work below and the
  // caller's outputs (BuiltImage.exited); a failed build waits for it before throwing.
  let networksClosed: Promise<void> = Promise.resolve();
  try {
    top = await solver.solve(graph.target.top, req.signal);
  } catch (e) {
    await networks.close();
    throw located(e);
  } finally {
    networksClosed = networks.close();
    for (const c of statCaches.values()) await (await c).save().catch(() => {});
    // Best effort: without a record, pruning takes a snapshot's creation as its last use.
    await recordSnapshotUse(state.snapshotUseDir, state.snapshots, used).catch(() => {});
  }

  try {
    const layers = await layersOf(state, top.snapshot);
    const unaccounted: string[] = [];
    const history = await stageHistory(graph.target, graph.stages, {
      image: (ref) => loadBase(ref, plan.targetPlatform),
      named: async (key) => {
        const base = await namedBase(key, plan.targetPlatform);
        if (base !== undefined) return base.history;
        // A directory's layer has no history entry of its own: BuildKit's exporter appends one
        // for it after the others, described by the layer's origin.
        if (named.get(key)?.kind === 'local') unaccounted.push(`local source for ${key}`);
        return [];
      },
    });
    for (const description of unaccounted) history.push({ created_by: description, comment: 'buildkit.exporter.image.v0' });
    const layerEntries = history.filter((h) => h.empty_layer !== true).length;
    if (layerEntries !== layers.length) {
      throw new Error(`internal: ${layers.length} layers but ${layerEntries} history entries with a layer`);
    }
    const layerTimes = await Promise.all(layers.map(async (l) => new Date((await state.snapshots.stat(l.snapshot)).created)));
    const timedHistory = fillHistoryTimes(history, layerTimes);
    const stagePlatform = graph.target.stage.platform;
    const platform = stagePlatform ?? plan.targetPlatform;
    const labels = { ...(graph.target.stage.config.Labels ?? {}), ...req.labels };
    const config: ImageConfig = {
      ...graph.target.stage.config,
      ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
    };
    const author = graph.target.stage.author;
    return { config, ...(author === undefined ? {} : { author }), platform, history: timedHistory, layers, plan, exited: networksClosed };
  } catch (e) {
    await networksClosed;
    throw e;
  }
}

/** The base's history, then the stage's own steps. */
async function stageHistory(
  g: StageGraph,
  all: ReadonlyMap<number, StageGraph>,
  bases: { image: (ref: string) => Promise<BaseImage>; named: (key: string) => Promise<readonly HistoryEntry[]> },
): Promise<HistoryEntry[]> {
  const base = g.stage.base;
  let before: HistoryEntry[] = [];
  if (base.kind === 'image') before = [...(await bases.image(base.ref)).history];
  else if (base.kind === 'named') before = [...(await bases.named(base.name))];
  else if (base.kind === 'stage') before = await stageHistory(all.get(base.stage)!, all, bases);
  // Times are filled in once the layers are known (fillHistoryTimes).
  return [
    ...before,
    ...g.history.map((h) => ({
      created_by: h.createdBy,
      comment: 'buildkit.dockerfile.v0',
      ...(h.layer ? {} : { empty_layer: true }),
    })),
  ];
}

/** The RUN steps below `top` whose cache is ignored: they run whatever the cache holds. */
function uncachedRuns(top: Vertex<Ref>, ignored: (v: Vertex<Ref>) => boolean): ExecOp[] {
  const runs: ExecOp[] = [];
  const seen = new Set<Vertex<Ref>>();
  const visit = (v: Vertex<Ref>): void => {
    if (seen.has(v)) return;
    seen.add(v);
    const op = v.op instanceof OnPlatform ? v.op.op : v.op;
    if (op instanceof ExecOp && ignored(v)) runs.push(op);
    v.inputs.forEach(visit);
  };
  visit(top);
  return runs;
}

/** `top` and the roots it builds on, down through each step's first input: a stage's chain, then its base's. */
function* rootChain(top: Vertex<Ref>): Generator<Vertex<Ref>> {
  for (let t: Vertex<Ref> | undefined = top; t !== undefined; t = t.inputs[0]) yield t;
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

/** An image fits the platform when OS and architecture agree, and the variant where both name one. */
/** A base image must be of the platform its stage is built for; it never runs as another's. */
function requirePlatform(label: string, image: { readonly os: string; readonly architecture: string; readonly variant?: string }, want: Platform): void {
  if (samePlatform(image, want)) return;
  const has = formatPlatform({ os: image.os, architecture: image.architecture, ...(image.variant === undefined ? {} : { variant: image.variant }) });
  throw new BuildError('PLATFORM_MISMATCH', `${label} is an image for ${has}, not ${formatPlatform(want)}`, {
    hint: `the image has only ${has}: build for it with --platform ${has}, or use an image that has ${formatPlatform(want)}`,
  });
}

function samePlatform(image: { readonly os: string; readonly architecture: string; readonly variant?: string }, want: Platform): boolean {
  if (image.os !== want.os || image.architecture !== want.architecture) return false;
  return image.variant === undefined || image.variant === '' || want.variant === undefined || want.variant === '' || image.variant === want.variant;
}
