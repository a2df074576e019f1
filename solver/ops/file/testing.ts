/** Test helpers: temp trees built from a compact description. */
import { chmod, lchown, link, lutimes, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** `'dir/'` a directory, `{ link: 't' }` a symlink, `{ hardlink: 'other' }` a hard link, else file content. */
export type TreeSpec = Record<string, string | { readonly link: string } | { readonly hardlink: string } | { readonly mode: number; readonly data: string }>;

export async function tempDir(prefix = 'tsbuild-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Create the entries of `spec` under `root`, in the order given. */
export async function makeTree(root: string, spec: TreeSpec): Promise<void> {
  for (const [path, value] of Object.entries(spec)) {
    const abs = join(root, path);
    if (path.endsWith('/')) {
      await mkdir(abs, { recursive: true });
      continue;
    }
    await mkdir(dirname(abs), { recursive: true });
    if (typeof value === 'string') await writeFile(abs, value);
    else if ('link' in value) await symlink(value.link, abs);
    else if ('hardlink' in value) await link(join(root, value.hardlink), abs);
    else {
      await writeFile(abs, value.data);
      await chmod(abs, value.mode);
    }
  }
}

export async function setOwner(path: string, uid: number, gid: number): Promise<void> {
  await lchown(path, uid, gid);
}

export async function setTime(path: string, seconds: number): Promise<void> {
  await lutimes(path, seconds, seconds);
}
