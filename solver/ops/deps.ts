/**
 * What the ops are given by the build worker (build/): narrow interfaces, each op taking only
 * those it uses (see resolveOp). The worker owns the state directory and implements them.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/index.js';
import type { MountSpec, OverlaySpec, SecurityMode } from '../../executor/index.js';
import type { SnapshotDirectories, SnapshotName, Snapshotter } from '../../snapshotter/index.js';
import type { StatCache } from './context/index.js';
import type { PathMatcher } from './path-matcher.js';
import type { LazyLayer } from './ref.js';

/** The parts of the state directory ops write to (the worker's State satisfies it). */
export interface OpStore {
  readonly snapshots: Snapshotter & SnapshotDirectories;
  /** Records the ops keep by key: copies of bound context paths. */
  readonly cacheDir: string;
  /** chain id → snapshot records (image layers already unpacked). */
  readonly layersDir: string;
  /** Per-snapshot layer facts, and memoised checksums of snapshot paths. */
  readonly layerMetaDir: string;
  /** RUN --mount=type=cache directories. */
  readonly cacheMountsDir: string;
  /** This process's scratch space (mount points, secrets, scripts). */
  readonly tmpDir: string;
}

/** A lock held on a file until released (flock: it dies with the process). */
export interface HeldFileLock {
  release(): Promise<void>;
}

/** Locks between steps and builds, in this process or another. */
export interface FileLocks {
  /** Waits for the lock. */
  hold(path: string, options?: { readonly signal?: AbortSignal }): Promise<HeldFileLock>;
  /** The lock if nobody holds it, else undefined. */
  tryHold(path: string): Promise<HeldFileLock | undefined>;
  /** `fn` under the lock. */
  withLock<T>(path: string, fn: () => Promise<T>): Promise<T>;
}

/** A layer of a resolved image. */
export interface ImageLayer {
  /** The uncompressed tar's digest. */
  readonly diffId: Digest;
  /**
   * The layer as an uncompressed tar stream. A layer still downloading is read as its bytes
   * arrive, and the stream fails if the download does; a reader that stops before the end
   * awaits fetch() to know the blob checked out.
   */
  open(): Promise<Readable>;
  /**
   * Brings the layer's blob into the content store (once) where it is not there yet. Unpacking
   * starts it for every layer it needs before it opens any, so the downloads run side by side
   * with the unpacking instead of one unpack slot at a time.
   */
  fetch?(): Promise<void>;
  /** Called once the layer is a snapshot: outputs may reuse the blob as it came. */
  unpacked(): Promise<void>;
  /** When the layer was made (ISO 8601), if it comes from a build cache that says so. */
  readonly created?: string;
}

/** An image, resolved: what keys it and what unpacks it. */
export interface ResolvedImage {
  /** The manifest's digest: the op's key (retagging a name to another image changes it). */
  readonly manifest: string;
  /** Its layers, bottom first (read only when the image is unpacked). */
  layers(): Promise<readonly ImageLayer[]>;
  /**
   * Present while some layer's blob is not in the content store (an image resolved in its
   * registry): the layers as blobs (read from the config only when asked: keying the op needs
   * none of it), fetched on demand. The op's result is then lazy.
   */
  readonly remote?: { layers(): Promise<readonly LazyLayer[]>; fetch(layer: LazyLayer): Promise<void> };
}

/** Finds images by reference (or the build context `context` that stands for one). */
export interface ImageResolver {
  resolve(ref: string, context?: string): Promise<ResolvedImage>;
}

/** A directory on the host read in place as a build context (the main one, or a named one). */
export interface LocalContext {
  readonly dir: string;
  /** Its .dockerignore: what it excludes is not in the context. */
  readonly ignore?: PathMatcher;
  /** Opened on first use: builds that copy nothing from the context never read it. */
  readonly statCache?: () => Promise<StatCache>;
}

/** One process to run (an exec op's), on its root filesystem with its mounts. */
export interface ProcessSpec {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  /** 'default' is the build's isolated network: the executor joins it and answers its DNS. */
  readonly network: 'default' | 'none' | 'host';
  readonly security: SecurityMode;
  readonly rootfs: OverlaySpec;
  readonly mounts: readonly MountSpec[];
}

export interface ProcessIO {
  readonly stdout: (chunk: Uint8Array) => void;
  readonly stderr: (chunk: Uint8Array) => void;
}

/**
 * Runs processes for exec ops. The worker's executor adds what every process of a build
 * shares (hostname, hosts file, resolv.conf, the network it joins).
 */
export interface Executor {
  run(spec: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ readonly exitCode: number }>;
}

/** Where the secrets of a build come from: a reader per id given with --secret. */
export type SecretSources = ReadonlyMap<string, () => Promise<Uint8Array>>;
/** SSH agents of a build by id (--ssh): the agent's socket path. */
export type SshSources = ReadonlyMap<string, string>;

/**
 * Cache mount contents imported with the build cache (`--cache-from` of a cache exported with
 * `mounts=`): a cache directory that does not exist yet is restored from them.
 */
export interface CacheMountRestorer {
  /** Whether there may be content to restore for cache `id` (seeded or not). */
  has(id: string): boolean;
  /**
   * Writes cache `id`'s content (of the cache seeded from `seed`, when given) into `into`, an
   * empty directory; false when there is none.
   */
  restore(id: string, seed: CacheMountSource | undefined, into: string, signal: AbortSignal): Promise<boolean>;
  /** Told the directory of each cache seeded from= that a step mounts, for a later export. */
  seededDir(id: string, seed: CacheMountSource, dir: string): void;
}

/** What a cache mount is seeded from: a stage's or image's snapshot (null: scratch) and the path in it. */
export interface CacheMountSource {
  readonly snapshot: SnapshotName | null;
  readonly path: string;
}

/** Everything the worker hands to resolveOp; each op takes its share. */
export interface OpDeps {
  readonly store: OpStore;
  readonly locks: FileLocks;
  readonly images: ImageResolver;
  readonly executor: Executor;
  /** The local directories by name (MAIN_CONTEXT, or a named context's key). */
  readonly local: (name: string) => LocalContext;
  /** Proxy build args: in RUN's environment, never in a key or the image. */
  readonly proxyEnv: readonly string[];
  /** --secret: what `RUN --mount=type=secret` may read; values never enter a key. */
  readonly secrets?: SecretSources;
  /** --ssh: agent sockets `RUN --mount=type=ssh` may reach. */
  readonly ssh?: SshSources;
  /** Imported cache mount contents, restored into cache directories not there yet. */
  readonly cacheMountRestorer?: CacheMountRestorer;
}
