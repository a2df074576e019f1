/**
 * The frontend's output: a plain, serialisable build plan — the stages a target needs, each
 * with its base, its steps after variable expansion, and the image config it ends with.
 * The solver turns it into a graph of ops; nothing here touches a disk.
 */
import type { SourceRange } from '../../errors/index.js';
import type { Healthcheck, Instruction, RunMount } from '../instructions/types.js';
import type { ImageConfig } from '../../oci/index.js';
import type { Platform } from './platform.js';

/** The image config is OCI vocabulary (oci/), named here as the plan speaks it. */
export type { ImageConfig } from '../../oci/index.js';

/** What a stage takes from the image it starts from, besides the filesystem. */
export interface ImageMeta {
  readonly config: ImageConfig;
  /** The image's `author` (MAINTAINER). */
  readonly author?: string;
}

/** What a stage starts from. */
export type StageBase =
  | { readonly kind: 'scratch' }
  | { readonly kind: 'image'; readonly ref: string }
  | { readonly kind: 'stage'; readonly stage: number }
  /** A `--build-context` (by its key), replacing an image or a whole stage of that name. */
  | { readonly kind: 'named'; readonly name: string };

/** Where COPY --from or RUN --mount from= reads. */
export type SourceRef =
  | { readonly kind: 'stage'; readonly stage: number }
  | { readonly kind: 'image'; readonly ref: string }
  | { readonly kind: 'context' }
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'scratch' };

export interface PlannedMount {
  readonly mount: RunMount;
  /** What `from` points at (bind and cache mounts); context when not given. */
  readonly source: SourceRef;
}

/** One instruction of a stage, with words expanded where BuildKit expands them. */
export interface Step {
  readonly instruction: Instruction;
  /** The environment in scope: image env, ENV and ARG values, in order (KEY=VALUE). */
  readonly env: readonly string[];
  /**
   * The ARG declarations in scope, in order: the parent stage's (a stage built FROM another),
   * then this stage's; a key declared again appears again. The value is the one the ARG set
   * (undefined for an ARG without one); what RUN sees is in `env`.
   */
  readonly args: readonly StepArg[];
  /** Working directory, user and shell in effect when the step runs. */
  readonly workdir: string;
  readonly user: string;
  readonly shell: readonly string[];
  /** COPY --from. */
  readonly from?: SourceRef;
  /** RUN --mount, parsed after expansion, in order. */
  readonly mounts?: readonly PlannedMount[];
  /** The step comes from an ONBUILD trigger of the base. */
  readonly onbuild: boolean;
  /** What progress names the step's vertex (RUN, COPY, ADD, WORKDIR), before the `[n/m]` prefix. */
  readonly title?: string;
}

export interface StepArg {
  readonly key: string;
  readonly value?: string;
}

export interface PlannedStage {
  /** Position in the Dockerfile (what `--from=N` counts). */
  readonly index: number;
  /** `AS name` (lower-case), if given. */
  readonly name?: string;
  readonly base: StageBase;
  /** `FROM --platform`, expanded and parsed. */
  readonly platform?: Platform;
  readonly steps: readonly Step[];
  /** The stage's image config after its last step. */
  readonly config: ImageConfig;
  /** The image's `author`: the last MAINTAINER, else the base's author. */
  readonly author?: string;
  /** Stages this one needs (its base, COPY --from, RUN --mount from=), by index. */
  readonly dependsOn: readonly number[];
  readonly range: SourceRange;
}

export interface PlanWarning {
  readonly code: string;
  readonly message: string;
  readonly range?: SourceRange;
}

export interface BuildPlan {
  /** The stages the target needs, in Dockerfile order; the last one is the target. */
  readonly stages: readonly PlannedStage[];
  readonly target: number;
  /**
   * Whether vertex names carry the stage's name: BuildKit leaves it out only when the
   * Dockerfile has one stage that reads no other image or stage (no COPY --from, no RUN --mount).
   */
  readonly namesWithStage: boolean;
  readonly buildPlatform: Platform;
  readonly targetPlatform: Platform;
  /**
   * Proxy build args as RUN's environment (`HTTP_PROXY=…`, `http_proxy=…`, …): RUN sees them,
   * the image, the history and the cache key never do (unless an ARG declares one).
   */
  readonly proxyEnv: readonly string[];
  readonly warnings: readonly PlanWarning[];
}

export type { Healthcheck };
