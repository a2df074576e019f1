import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Usage } from './types.js';

/** Disk usage of a directory tree: allocated bytes and inodes, hard links counted once. */
export async function diskUsage(dir: string): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += Number(st.blocks) * 512;
      inodes++;
    }
    if (st.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    }
  };
  await visit(dir);
  return { size, inodes };
}
