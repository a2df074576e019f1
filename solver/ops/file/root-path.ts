/**
 * Paths inside a root directory, resolved as if the root were `/` (what containerd's
 * `fs.RootPath` does for BuildKit): `..` never climbs above the root, and a symlink met on
 * the way is followed with its target read inside the root, an absolute target restarting
 * from the root. Nothing outside the root is ever looked at. Paths are strings as
 * tarfs/byte-names.ts has them (a name that is not UTF-8 byte-escaped).
 */
import { lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { BuildError } from '../../../errors/index.js';
import { fsPath, readlinkName } from '../../../tarfs/index.js';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

/** The components of a slash path, `.`/empty dropped and `..` applied lexically at the root. */
export function cleanComponents(path: string): string[] {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/** `/`-rooted clean form of a path (Go's `path.Join("/", p)`). */
export function cleanAbs(path: string): string {
  return '/' + cleanComponents(path).join('/');
}

/** Host path of a clean root-relative path ('' is the root itself). */
export function hostPath(root: string, rel: string): string {
  return rel === '' ? root : `${root}/${rel}`;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (BuildKit: yes for COPY sources and destinations). */
  readonly followFinal: boolean;
  /**
   * Is an existing entry part of this view of the root? A hidden entry (e.g. left out by
   * .dockerignore) resolves as if it did not exist.
   */
  readonly visible?: (rel: string, isDir: boolean) => Promise<boolean>;
}

/**
 * Resolve `path` (absolute or relative, either meaning from the root) inside `root`. Returns
 * the clean root-relative path ('' for the root); components that do not exist are kept as
 * written. Throws BuildError COPY_FAILED on a symlink loop.
 */
export async function resolveInRoot(root: string, path: string, opts: ResolveOptions): Promise<string> {
  let todo = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  let missing = false; // once a component is missing, the rest is lexical
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const isFinal = todo.length === 0;
    if (missing || (isFinal && !opts.followFinal)) {
      done.push(c);
      continue;
    }
    const rel = [...done, c].join('/');
    const st = await lstatOrUndefined(hostPath(root, rel));
    if (st === undefined || (opts.visible !== undefined && !(await opts.visible(rel, st.isDirectory())))) {
      missing = true;
      done.push(c);
      continue;
    }
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new BuildError('COPY_FAILED', `too many levels of symbolic links resolving ${JSON.stringify(path)}`);
    }
    const target = readlinkName(hostPath(root, rel));
    if (target.startsWith('/')) done.length = 0;
    todo = [...target.split('/').filter((t) => t !== '' && t !== '.'), ...todo];
  }
  return done.join('/');
}

export async function lstatOrUndefined(path: string): Promise<import('node:fs').BigIntStats | undefined> {
  try {
    return await lstat(fsPath(path), { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** lstatOrUndefined with a synchronous call: for walks that make thousands of them (see walk.ts). */
export function lstatSyncOrUndefined(path: string): import('node:fs').BigIntStats | undefined {
  try {
    return lstatSync(fsPath(path), { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}
