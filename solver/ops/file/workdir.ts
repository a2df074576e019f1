/**
 * WORKDIR's directory, as BuildKit makes it: `mkdir -p` inside the root (symlinks followed
 * there), mode 0755, each directory it creates owned by the USER in effect (resolved in the
 * same root; root when no USER) and, with SOURCE_DATE_EPOCH, timed at the epoch. Existing
 * directories are not touched; `/` needs nothing.
 */
import { mkdirAllInRoot } from './mkdir.js';
import { cleanAbs } from './root-path.js';
import { resolveOwner } from './users.js';

export interface WorkdirOptions {
  /** The USER in effect (`name`, `uid`, `user:group`…); '' or undefined: root. */
  readonly user?: string;
  /** SOURCE_DATE_EPOCH, when set: the created directories' times. */
  readonly time?: Date;
}

/** Create `path` (absolute, already joined with the previous working directory) under `root`. */
export async function mkdirWorkdir(root: string, path: string, opts: WorkdirOptions = {}): Promise<void> {
  if (cleanAbs(path) === '/') return;
  const owner = opts.user === undefined || opts.user === '' ? undefined : await resolveOwner(root, opts.user);
  await mkdirAllInRoot(root, path, { mode: 0o755, owner, time: opts.time });
}
