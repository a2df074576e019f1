/**
 * `mkdir -p` inside a root, as fsutil's MkdirAll does for BuildKit: each directory it creates
 * gets `mode` (no umask), the owner when one is given (else stays the process's, i.e. root)
 * and the time when one is given; existing directories are left untouched.
 */
import { chmod, lchown, lutimes, mkdir } from 'node:fs/promises';
import { BuildError } from '../../../errors/index.js';
import { fsPath } from '../../../tarfs/index.js';
import { hostPath, lstatOrUndefined, resolveInRoot } from './root-path.js';
import type { Owner } from './users.js';

export interface MkdirOptions {
  readonly mode: number;
  readonly owner?: Owner;
  readonly time?: Date;
}

/**
 * Create `path` (resolved inside `root`, symlinks followed there) and its missing parents.
 * Returns the root-relative path it resolved to. Throws COPY_FAILED when a component is not
 * a directory.
 */
export async function mkdirAllInRoot(root: string, path: string, opts: MkdirOptions): Promise<string> {
  const rel = await resolveInRoot(root, path, { followFinal: true });
  let current = '';
  for (const c of rel === '' ? [] : rel.split('/')) {
    current = current === '' ? c : `${current}/${c}`;
    const abs = hostPath(root, current);
    const st = await lstatOrUndefined(abs);
    if (st !== undefined) {
      if (!st.isDirectory()) {
        throw new BuildError('COPY_FAILED', `mkdir /${current}: not a directory`, {
          hint: `/${current} exists and is not a directory, so nothing can be created below it.`,
        });
      }
      continue;
    }
    const dir = fsPath(abs); // COPY --parents keeps source names, which may not be UTF-8
    await mkdir(dir, { mode: opts.mode });
    await chmod(dir, opts.mode); // the process umask must not change the mode
    if (opts.owner !== undefined) await lchown(dir, opts.owner.uid, opts.owner.gid);
    if (opts.time !== undefined) await lutimes(dir, opts.time, opts.time);
  }
  return rel;
}
