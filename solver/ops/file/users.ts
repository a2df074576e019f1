/**
 * `--chown user[:group]` and WORKDIR's owner, resolved against the DESTINATION root's
 * /etc/passwd and /etc/group as BuildKit does: a number is an id (a user id alone gives the
 * same group id), `root` is 0, a name is looked up (the user's primary group when no group
 * is given). BuildKit silently uses 0 for a name it cannot find; tsbuild refuses it.
 */
import { open } from 'node:fs/promises';
import { BuildError } from '../../../errors/index.js';
import { hostPath, resolveInRoot } from './root-path.js';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

type IdOrName = { readonly id: number } | { readonly name: string };

/** BuildKit reads at most this much of /etc/passwd or /etc/group. */
const MAX_USER_FILE_BYTES = 10 << 20;

/** Go's strconv.ParseInt(s, 10, 32), with `root` meaning 0 (BuildKit's parseUID). */
function idOrName(s: string): IdOrName {
  if (s === 'root') return { id: 0 };
  if (/^[+-]?[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n >= -(2 ** 31) && n < 2 ** 31) return { id: n };
  }
  return { name: s };
}

/** Resolve a `--chown` / USER value inside `root`. Throws USER_NOT_FOUND or COPY_FAILED. */
export async function resolveOwner(root: string, spec: string): Promise<Owner> {
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  const user = idOrName(userPart);
  let uid = 0;
  let gid = 0;
  if ('id' in user) {
    uid = user.id;
    gid = user.id;
  } else {
    const entry = (await readColonFile(root, '/etc/passwd')).find((f) => f[0] === user.name);
    if (entry === undefined) throw notFound('user', user.name, spec, 'passwd');
    uid = atoi(entry[2]);
    gid = atoi(entry[3]);
  }
  if (groupPart !== undefined) {
    const group = idOrName(groupPart);
    if ('id' in group) gid = group.id;
    // BuildKit encodes an empty group name as group id 0 (`--chown=app:` gives app:0).
    else if (group.name === '') gid = 0;
    else {
      const entry = (await readColonFile(root, '/etc/group')).find((f) => f[0] === group.name);
      if (entry === undefined) throw notFound('group', group.name, spec, 'group');
      gid = atoi(entry[2]);
    }
  }
  if (uid < 0 || gid < 0) {
    throw new BuildError('COPY_FAILED', `invalid owner ${JSON.stringify(spec)}: ids cannot be negative`);
  }
  return { uid, gid };
}

function notFound(kind: 'user' | 'group', name: string, spec: string, file: string): BuildError {
  return new BuildError(
    'USER_NOT_FOUND',
    `unable to find ${kind} ${name}: no matching entries in ${file} file (resolving ${JSON.stringify(spec)})`,
    {
      hint:
        `Names are looked up in the image's own /etc/${file}; create the ${kind} in an earlier step ` +
        `or use a numeric id (BuildKit would silently use 0 here).`,
    },
  );
}

/** Go's Atoi as moby/sys/user uses it: a bad number counts as 0. */
function atoi(s: string | undefined): number {
  return s !== undefined && /^[+-]?[0-9]+$/.test(s) ? Number(s) : 0;
}

/** The colon-separated lines of a file inside `root`; none when it is missing. */
async function readColonFile(root: string, path: string): Promise<string[][]> {
  const rel = await resolveInRoot(root, path, { followFinal: true });
  let handle;
  try {
    handle = await open(hostPath(root, rel), 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new BuildError('COPY_FAILED', `${path} is not a regular file`);
    if (st.size > MAX_USER_FILE_BYTES) {
      throw new BuildError('COPY_FAILED', `${JSON.stringify(path)} exceeds ${MAX_USER_FILE_BYTES} bytes`);
    }
    const text = (await handle.readFile()).toString('utf8');
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } finally {
    await handle.close();
  }
}
