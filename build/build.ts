/**
 * One build, end to end below the CLI: parse, plan, graph, solve, and the image that
 * results (config, history, layers). Outputs are written by the caller from what this returns.
 */
import { BuildError } from '../errors/index.js';
import {
  buildGraph, compileMatcher, readIgnorePatterns, parseDockerfile, planBuild, hostPlatform,
  type BuildPlan, type Matcher, type ParseResult, type Platform,
} from '../frontend/index.js';
import { MAIN_CONTEXT, type EventSink } from '../solver/core/index.js';
import { NetworkPool } from '../executor/index.js';
import { GraphResolver, type LocalContext, type SecretSources, type SshSources } from '../solver/ops/index.js';
import { BaseImages } from './base-images.js';
import type { CacheExports, CacheResults } from './cache-export.js';
import { openCacheImports, type CacheImport } from './cache-import.js';
import { CacheMountArchives } from './cache-mount-archives.js';
import { ContextSources } from './context-sources.js';
import type { Entitlement } from './entitlement.js';
import { fileLocks } from './file-locks.js';
import { storeImageResolver } from './image-resolver.js';
import { imageResult, type ImageResult } from './image-result.js';
import { contextKey, type BuildContextSpec } from './named-contexts.js';
import { checkRunnable } from './run-platform.js';
import { sandboxExecutor } from './sandbox.js';
import { solveTarget } from './solve.js';
import type { State } from './state.js';
import { StatCaches } from './stat-caches.js';

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
  /** --cache-from: caches consulted after the local one, in order. */
  readonly cacheFrom?: readonly CacheImport[];
  /** --cache-to: the exports, fed each step's result while the solve runs. */
  readonly cacheExports?: CacheExports;
  readonly events: EventSink;
  readonly warn: (message: string, where?: string) => void;
  readonly signal: AbortSignal;
}

export interface BuiltImage extends ImageResult {
  readonly plan: BuildPlan;
  /**
   * Resolves once every process the build started outside its steps (RUN's network holders
   * and stacks) has exited; never rejects. They were told to stop when the solve ended, but
   * the kernel takes some 20 ms to tear a stack's tap device down: the caller writes its
   * outputs meanwhile and waits for this before it returns, so that nothing outlives it.
   */
  readonly exited: Promise<void>;
  /** The steps' results by cache key, for --cache-to. */
  readonly cache: CacheResults;
}

export async function build(req: BuildRequest): Promise<BuiltImage> {
  const { state } = req;
  const parsed = parseDockerfile(req.dockerfile, { file: req.dockerfileName });
  const access = { insecure: req.insecureRegistries, ca: req.registryCAs, env: req.env };
  const bases = new BaseImages(state, access, req.pull, req.events);
  const statCaches = new StatCaches(state);
  const contexts = await ContextSources.open(state, req.buildContexts ?? new Map(), bases, statCaches);

  // The plan's target platform, known before planning: the requested one, or the host's.
  const targetPlatform = req.platform ?? hostPlatform();
  // The imported caches are opened while the plan resolves its base images: both are a few
  // round trips to registries.
  const opening = openCacheImports(state, req.cacheFrom ?? [], req.events, (message) => req.warn(message), access, targetPlatform);
  opening.catch(() => {}); // awaited below; a plan that fails first wins
  const plan = await planStages(parsed.ast, req, bases, contexts);
  for (const w of plan.warnings) req.warn(w.message, w.range === undefined ? undefined : `${w.range.file}:${w.range.start.line}`);
  await loadStepImages(plan, bases, contexts);

  let ignore: Matcher | undefined;
  const patterns = await readIgnorePatterns(req.dockerfilePath, req.contextDir);
  if (patterns.length > 0) ignore = compileMatcher(patterns);
  // RUN's isolated network: nothing starts until a step on the default network runs.
  const networks = new NetworkPool();
  // RUN --mount=type=cache contents: restored from the imports, exported with mounts=.
  const mountArchives = new CacheMountArchives(state);
  const mainContext: LocalContext = { dir: req.contextDir, ...(ignore === undefined ? {} : { ignore }), statCache: statCaches.of(req.contextDir) };
  const graph = buildGraph(plan, {
    network: req.network,
    named: contexts.sources,
    checkRunnable,
    ...(req.entitlements === undefined ? {} : { entitlements: req.entitlements }),
  });
  const vertices = new GraphResolver({
    store: state,
    locks: fileLocks,
    images: storeImageResolver(
      state.content,
      (ref) => bases.source(ref),
      async (key) => contexts.source(key, targetPlatform),
    ),
    executor: sandboxExecutor(networks),
    local: (name) => {
      const context = name === MAIN_CONTEXT ? mainContext : contexts.sources.get(name)?.context;
      if (context === undefined) throw new Error(`internal: no local build context named ${name}`);
      return context;
    },
    proxyEnv: plan.proxyEnv,
    ...(req.secrets === undefined ? {} : { secrets: req.secrets }),
    ...(req.ssh === undefined ? {} : { ssh: req.ssh }),
    cacheMountRestorer: mountArchives,
  });

  const imports = await opening;
  req.cacheExports?.begin(imports.map((i) => i.source));
  mountArchives.useImports(imports);
  mountArchives.useGraph(vertices.vertex(graph.target.top));
  const { top, cache, exited } = await solveTarget(graph, vertices, networks, state, statCaches, {
    noCache: req.noCache,
    noCacheFilter: req.noCacheFilter,
    events: req.events,
    signal: req.signal,
    imports,
    ...(req.cacheExports === undefined ? {} : { onStep: (step, onChain) => req.cacheExports!.add(step, onChain) }),
    mountArchives,
  });

  try {
    const image = await imageResult(state, top, graph.target, graph.stages, plan, req.labels, {
      image: (ref) => bases.load(ref, plan.targetPlatform),
      named: async (key, unaccounted) => {
        const base = await contexts.base(key, plan.targetPlatform);
        if (base !== undefined) return base.history;
        if (contexts.sources.get(key)?.kind === 'local') unaccounted.push(`local source for ${key}`);
        return [];
      },
    });
    return { ...image, plan, exited, cache: { ...cache, mounts: mountArchives } };
  } catch (e) {
    await exited;
    throw e;
  }
}

/**
 * Images that COPY --from and RUN --mount from= read are had (pulled, imported) before the
 * solve, as FROM images are while planning.
 */
async function loadStepImages(plan: BuildPlan, bases: BaseImages, contexts: ContextSources): Promise<void> {
  for (const stage of plan.stages) {
    for (const step of stage.steps) {
      for (const ref of [step.from, ...(step.mounts ?? []).map((m) => m.source)]) {
        try {
          if (ref?.kind === 'image') await bases.load(ref.ref, plan.targetPlatform);
          else if (ref?.kind === 'named') await contexts.base(ref.name, plan.targetPlatform);
        } catch (e) {
          // A bad or missing image is the instruction's error: point at it.
          if (e instanceof BuildError && e.range === undefined) throw e.at(step.instruction.range);
          throw e;
        }
      }
    }
  }
}

/** The build plan of the target: FROM images and named contexts resolved as the plan needs them. */
async function planStages(ast: ParseResult['ast'], req: BuildRequest, bases: BaseImages, contexts: ContextSources): Promise<BuildPlan> {
  const named = contexts.sources;
  return planBuild(ast, {
    buildArgs: req.buildArgs,
    ...(req.target === undefined ? {} : { target: req.target }),
    ...(req.platform === undefined ? {} : { targetPlatform: req.platform }),
    resolveImage: async (ref, platform) => bases.load(ref, platform),
    ...(named.size === 0
      ? {}
      : {
          namedContexts: {
            match: (name: string) => {
              const key = contextKey(name);
              return key !== undefined && named.has(key) ? key : undefined;
            },
            image: async (key: string, platform: Platform) => contexts.base(key, platform),
          },
        }),
  });
}
