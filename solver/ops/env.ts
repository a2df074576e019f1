/**
 * What every op of one build shares, and the local directories it reads as build contexts
 * (the main one, and named ones given as directories).
 */
import type { BuildNetworks } from '../../executor/index.js';
import type { ImageBlobs } from '../../images/index.js';
import type { Matcher } from '../../frontend/dockerignore/index.js';
import type { SourceRef } from '../../frontend/stages/types.js';
import { fileXattrs } from '../../snapshotter/index.js';
import type { StatCache } from './context/index.js';
import type { SecretSources, SshSources } from './exec-mounts.js';
import type { State } from './state.js';

/** A directory on the host that COPY reads as a build context (the main one, or a named one). */
export interface LocalContext {
  readonly dir: string;
  /** Its .dockerignore: what it excludes is not in the context. */
  readonly ignore?: Matcher;
  /** Opened on first use: builds that copy nothing from the context never read it. */
  readonly statCache?: () => Promise<StatCache>;
}

/** What a `--build-context` is, once resolved. */
export type NamedSource =
  | { readonly kind: 'local'; readonly context: LocalContext }
  /** An image: from the local store (docker-image://) or an OCI layout (oci-layout://). */
  | { readonly kind: 'image'; readonly label: string; readonly resolve: () => Promise<ImageBlobs> }
  /** docker-image://scratch: the empty filesystem. */
  | { readonly kind: 'scratch' };

/**
 * What a build may be granted beyond the sandbox (`--allow`), as BuildKit names it:
 * `security.insecure` lets `RUN --security=insecure` run with every capability; `network.host`
 * lets RUN use the host's network (`--network host`, `RUN --network=host`).
 */
export type Entitlement = 'security.insecure' | 'network.host';

/** What every op of one build shares. */
export interface OpEnv {
  readonly state: State;
  readonly contextDir: string;
  readonly ignore?: Matcher;
  /** Opened on first use: builds that copy nothing from the context never read it. */
  readonly statCache?: () => Promise<StatCache>;
  /** The `--build-context`s, by key. */
  readonly named?: ReadonlyMap<string, NamedSource>;
  /** Proxy build args: in RUN's environment, never in a key or the image. */
  readonly proxyEnv: readonly string[];
  readonly network: 'default' | 'none' | 'host';
  /** The isolated networks RUN steps with the default network join (made on first use). */
  readonly networks?: BuildNetworks;
  /** --allow: what the build was granted. */
  readonly entitlements?: ReadonlySet<Entitlement>;
  /** --secret: what `RUN --mount=type=secret` may read; values never enter a key. */
  readonly secrets?: SecretSources;
  /** --ssh: agent sockets `RUN --mount=type=ssh` may reach. */
  readonly ssh?: SshSources;
}

/** The main build context of an OpEnv as a LocalContext. */
export function mainContext(env: OpEnv): LocalContext {
  return {
    dir: env.contextDir,
    ...(env.ignore === undefined ? {} : { ignore: env.ignore }),
    ...(env.statCache === undefined ? {} : { statCache: env.statCache }),
  };
}

/** The local directory a COPY or RUN mount source reads directly, if it is one. */
export function localContextOf(env: OpEnv, ref: SourceRef | undefined): LocalContext | undefined {
  if (ref === undefined || ref.kind === 'context') return mainContext(env);
  if (ref.kind !== 'named') return undefined;
  const named = env.named?.get(ref.name);
  if (named === undefined) throw new Error(`internal: no build context named ${ref.name}`);
  return named.kind === 'local' ? named.context : undefined;
}

/**
 * Extended attributes of build-context files, as they reach BuildKit's COPY: its context
 * transfer sends every attribute, the receiving side sets them and then chowns the file to
 * 0:0, and the kernel drops `security.capability` on chown. So `user.*` (and `trusted.*`)
 * attributes are kept, file capabilities are not.
 */
export const contextXattrs = {
  list: async (path: string): Promise<readonly string[]> => (await fileXattrs.list(path)).filter((n) => n !== 'security.capability'),
  get: (path: string, name: string) => fileXattrs.get(path, name),
  set: (path: string, name: string, value: Uint8Array) => fileXattrs.set(path, name, value),
};
