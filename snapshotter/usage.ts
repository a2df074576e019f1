import { lstat, readdir } from 'node:fs/promises';
import type { Usage } from './types.js';

const SLASH = Buffer.from('/');

/** Disk usage of a directory tree: allocated bytes and inodes, hard links counted once. */
export async function diskUsage(dir: string): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  // Paths as bytes: a name that is not UTF-8 is reached by its own bytes.
  const visit = async (path: Buffer): Promise<void> => {
    const st = await lstat(path, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += Number(st.blocks) * 512;
      inodes++;
    }
    if (st.isDirectory()) {
      for (const name of await readdir(path, { encoding: 'buffer' })) await visit(Buffer.concat([path, SLASH, name]));
    }
  };
  await visit(Buffer.from(dir));
  return { size, inodes };
}
