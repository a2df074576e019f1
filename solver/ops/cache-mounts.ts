/**
 * Where `RUN --mount=type=cache` directories live in the state directory, and dropping them
 * when a build runs steps without their cache.
 *
 * A cache's directory is named after its id: `<sha256(id)>`, and for a cache seeded from a
 * stage or image (`from=`), `<sha256(id)>-<sha256(source snapshot, path)>`, so another source
 * starts another cache. `sharing=private` adds `.N` for each further directory in use at once.
 * Beside each directory: `NAME.lock` (locked and private sharing) and `NAME.create` (seeding).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** The directory name of cache `id`, seeded from `seed` (a snapshot name or 'scratch', and a path) when given. */
export function cacheMountName(id: string, seed?: { readonly snapshot: string; readonly path: string }): string {
  return seed === undefined ? hex(id) : `${hex(id)}-${hex(`${seed.snapshot}\0${seed.path}`)}`;
}

/**
 * Drops every directory of the caches `ids` (whatever they were seeded from), as BuildKit
 * does for the cache mounts of steps that run without their cache (`--no-cache`, and the
 * stages of `--no-cache-filter`): they start empty, and what they gather replaces the old
 * content for later builds too. Each directory is renamed away first, so a step starting
 * meanwhile finds no name or a new directory, never a half-removed one.
 */
export async function dropCacheMounts(cacheMountsDir: string, ids: Iterable<string>): Promise<void> {
  const hashes = new Set([...ids].map(hex));
  if (hashes.size === 0) return;
  for (const entry of await readdir(cacheMountsDir)) {
    const match = /^([0-9a-f]{64})(-[0-9a-f]{64})?(\.[0-9]+)?$/.exec(entry);
    if (match === null || !hashes.has(match[1]!)) continue; // lock files and others stay
    const trash = join(cacheMountsDir, `.drop-${randomUUID()}`);
    try {
      await rename(join(cacheMountsDir, entry), trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // dropped by another build
      throw e;
    }
    await rm(trash, { recursive: true, force: true });
  }
}
