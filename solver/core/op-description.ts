/**
 * The neutral op description: what a frontend asks the builder to do, as plain data, with no
 * Dockerfile syntax left in it (flags parsed, words expanded, sources named as inputs or local
 * directories). solver/ops makes an op of each one (`resolveOp`); the frontend makes them
 * from its stages. The kinds are those the builder has: exec, file and source (no merge: no
 * step of a Dockerfile needs one yet).
 *
 * Some fields are kept as the user wrote them only because the cache key has always hashed
 * them so (a bind mount's `from`, a chmod's text): keys stay the same across versions.
 */
import type { VertexMeta } from './types.js';

/** Where a mount or a copy reads: its op's next input (a stage, an image), or a local directory by name. */
export type DataSource =
  | { readonly kind: 'input' }
  /** A directory of the client read in place: MAIN_CONTEXT is the main build context, else a named one's key. */
  | { readonly kind: 'local'; readonly name: string }
  /** Nothing (a cache mount that starts empty). */
  | { readonly kind: 'none' };

/** The name of the main build context among the local directories (no named context's key is empty). */
export const MAIN_CONTEXT = '';

export type MountSharing = 'shared' | 'private' | 'locked';

interface MountBase {
  /** Where it appears; "" for the default of its type (resolved against the working directory). */
  readonly target: string;
  readonly readOnly: boolean;
}

export interface BindMountDescription extends MountBase {
  readonly type: 'bind';
  /** The source as the user named it ("" = the main context): kept for the cache key only. */
  readonly from: string;
  /** The path inside the source; "" = its root. */
  readonly source: string;
}

export interface CacheMountDescription extends MountBase {
  readonly type: 'cache';
  /** "" = the target is the id. */
  readonly id: string;
  readonly sharing: MountSharing;
  /** The seed's name as written ("" = the cache starts empty). */
  readonly from: string;
  /** The seed's path; "" = its root. */
  readonly source: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface TmpfsMountDescription extends MountBase {
  readonly type: 'tmpfs';
  /** Bytes; 0 = unlimited. */
  readonly size: number;
}

export interface SecretMountDescription extends MountBase {
  readonly type: 'secret';
  readonly id: string;
  /** An alias of id. */
  readonly source: string;
  /** Also (or only, with no target) exposed as this environment variable. */
  readonly env?: string;
  readonly required: boolean;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface SshMountDescription extends MountBase {
  readonly type: 'ssh';
  /** "" = "default". */
  readonly id: string;
  readonly required: boolean;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export type MountDescription = BindMountDescription | CacheMountDescription | TmpfsMountDescription | SecretMountDescription | SshMountDescription;

/** A mount of an exec, and what it reads (bind and cache mounts; `none` for the others). */
export interface ExecMount {
  readonly mount: MountDescription;
  readonly source: DataSource;
}

/** A process run on its first input's filesystem; its changes are the result. */
export interface ExecDescription {
  readonly kind: 'exec';
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  /** 'default' is the build's isolated network. */
  readonly network: 'default' | 'none' | 'host';
  readonly security: 'sandbox' | 'insecure';
  /** In order; those reading `input` take the op's inputs after the root, in this order. */
  readonly mounts: readonly ExecMount[];
  /** A script bound read-only at /dev/pipes/NAME (a heredoc starting with #!). */
  readonly script?: { readonly name: string; readonly data: string };
}

/** One clause of a symbolic mode, e.g. `ug+rx`. */
export interface SymbolicModeClause {
  /** Any of u g o a; "" means a (no umask applies). */
  readonly who: string;
  readonly actions: readonly { readonly op: '+' | '-' | '='; readonly perms: string }[];
}

/** A parsed mode: octal, or symbolic clauses applied to each file's own mode. */
export type FileMode =
  | { readonly kind: 'octal'; readonly mode: number }
  | { readonly kind: 'symbolic'; readonly text: string; readonly clauses: readonly SymbolicModeClause[] };

/**
 * A copy source that names content outside any directory: 'url' (HTTP(S)) or 'git' (a
 * repository), told apart as BuildKit does; undefined for a path. No op fetches either yet.
 */
export function remoteKind(src: string): 'url' | 'git' | undefined {
  if (/^git@[^:/]+:/.test(src) || /^(git|ssh):\/\//i.test(src)) return 'git';
  const http = /^https?:\/\//i.exec(src);
  if (http === null) return undefined;
  const path = src.slice(http[0].length).split(/[?#]/)[0] ?? '';
  return path.endsWith('.git') ? 'git' : 'url';
}

/** Copying files from a source onto the first input's filesystem (`add` also unpacks archives). */
export interface CopyDescription {
  readonly kind: 'file';
  readonly action: 'copy' | 'add';
  /** Paths (with wildcards) in the source. */
  readonly sources: readonly string[];
  /** Files given inline. */
  readonly heredocs: readonly { readonly path: string; readonly data: string }[];
  readonly dest: string;
  readonly workdir: string;
  /** user[:group], names or ids, looked up in the destination. */
  readonly chown?: string;
  /** The mode, parsed, and its text as written (the cache key has the text). */
  readonly chmod?: { readonly text: string; readonly mode: FileMode };
  readonly exclude: readonly string[];
  readonly parents: boolean;
  readonly link: boolean;
  /** add only: undefined when not asked either way. */
  readonly unpack?: boolean;
  /** The second input, or a local directory. */
  readonly from: Exclude<DataSource, { readonly kind: 'none' }>;
}

/** A directory made (with its parents) on the first input's filesystem, owned by `user`. */
export interface MkdirDescription {
  readonly kind: 'file';
  readonly action: 'mkdir';
  readonly path: string;
  readonly user: string;
}

export type FileDescription = CopyDescription | MkdirDescription;

/** A filesystem from outside the graph. */
export type SourceDescription =
  | { readonly kind: 'source'; readonly source: 'scratch' }
  /** An image by reference; `context` names the build context that resolves it, when one does. */
  | { readonly kind: 'source'; readonly source: 'image'; readonly ref: string; readonly context?: string }
  /** A local directory by name (see DataSource), all of it. */
  | { readonly kind: 'source'; readonly source: 'local'; readonly name: string };

export type OpDescription = ExecDescription | FileDescription | SourceDescription;

/** A node of a frontend's graph: an op, its inputs in order, and what progress shows of it. */
export interface OpNode {
  readonly op: OpDescription;
  /** The platform (`os/arch[/variant]`) the op is done for: it joins the op's digest and key. */
  readonly platform?: string;
  readonly inputs: readonly OpNode[];
  readonly meta: VertexMeta;
}
