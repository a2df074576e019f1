/**
 * The solver's core types: vertices addressed by digest, ops that answer "what is my cache
 * key" apart from "execute me", and the events a solve emits. Nothing here knows Dockerfiles,
 * disks or registries.
 */
import type { Digest } from '../../oci/index.js';
import type { KeyParts, MissReason, StepExplanation } from './explain.js';

/** Descriptive data kept beside a vertex, never in its digest. */
export interface VertexMeta {
  /** What progress shows, e.g. `[build 2/4] RUN make`. */
  readonly name: string;
  /** Anything the caller needs to map a vertex back to its source (e.g. a Dockerfile range). */
  readonly origin?: unknown;
  /** Progress hides vertices marked internal unless they fail. */
  readonly internal?: boolean;
  /**
   * Who the step is across builds, whatever its inputs (its instruction as written and its
   * stage): how a miss finds the record an earlier build made of it. Default: the name.
   */
  readonly step?: string;
  /** The names in the step's environment that build args set: a miss names them as such. */
  readonly buildArgs?: readonly string[];
}

/** How an input contributes to a vertex's cache key. */
export type InputKey<R> =
  /** The input's own cache key: equal keys, equal results. */
  | { readonly by: 'key' }
  /** A checksum of (part of) the input's result; needs the input solved first. */
  | { readonly by: 'content'; readonly checksum: (input: R) => Promise<string> };

export interface CacheMap<R> {
  /** The op's encoding with everything that cannot change its result left out. */
  readonly opDigest: Digest;
  /** One rule per input, in input order. */
  readonly inputs: readonly InputKey<R>[];
  /** The op's key in comparable parts, to explain a later miss (default: the op digest alone). */
  readonly explain?: KeyParts;
}

export interface KeyContext {
  readonly signal: AbortSignal;
}

export interface ExecContext {
  readonly signal: AbortSignal;
  readonly vertex: Digest;
  /** A RUN's output, and transfer status; forwarded to the event sink. */
  log(fd: 1 | 2, data: Uint8Array): void;
  status(id: string, current: number, total?: number): void;
}

export interface Op<R> {
  /** The canonical encoding of what the op does (without inputs); hashed into the digest. */
  readonly spec: unknown;
  /** Cheap and pure: mounts nothing, runs nothing. */
  cacheMap(cx: KeyContext): Promise<CacheMap<R>>;
  /** Called only on a cache miss, with every input already solved. */
  execute(inputs: readonly R[], cx: ExecContext): Promise<R>;
}

export interface Vertex<R> {
  readonly digest: Digest;
  readonly op: Op<R>;
  readonly inputs: readonly Vertex<R>[];
  readonly meta: VertexMeta;
}

/** Where solved results are remembered by cache key. */
export interface CacheStore<R> {
  /** The result stored under `key`, if it is still usable. */
  get(key: Digest): Promise<R | undefined>;
  put(key: Digest, result: R): Promise<void>;
  /** The explanation an imported record holds for `step` (see VertexMeta.step), to say why it missed. */
  previous?(step: string): Promise<StepExplanation | undefined>;
}

export type VertexState = 'started' | 'cached' | 'done' | 'failed';

export type SolveEvent =
  | {
      readonly kind: 'vertex';
      readonly digest: Digest;
      readonly name: string;
      readonly state: VertexState;
      readonly at: number;
      readonly error?: string;
      readonly internal?: boolean;
    }
  | { readonly kind: 'status'; readonly digest: Digest; readonly id: string; readonly current: number; readonly total?: number }
  | { readonly kind: 'log'; readonly digest: Digest; readonly fd: 1 | 2; readonly data: Uint8Array }
  /** A step that runs although an imported cache has a record of it: what differs (just after it started). */
  | { readonly kind: 'miss'; readonly digest: Digest; readonly reasons: readonly MissReason[] };

export type EventSink = (event: SolveEvent) => void;
