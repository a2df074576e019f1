/**
 * Build contexts written from a table of files, the busybox base image most e2e tests build
 * first, and finding files a build left in a state directory.
 */
import { mkdirSync, readdirSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs } from './rootfs.js';

/** Writes `files` (path → content) below `dir`, creating it; returns `dir`. */
export function writeContext(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Throws with the build's stderr unless it succeeded. */
export function expectOk(r: { status: number | null; stderr: string }): void {
  if (r.status !== 0) throw new Error(`build failed (${r.status}):\n${r.stderr}`);
}

/** A context at `dir` whose Dockerfile makes the busybox base: `FROM scratch`, `COPY rootfs/ /`, then `extra` lines. */
export async function busyboxBaseContext(dir: string, extra: readonly string[] = []): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await makeBusyboxRootfs(join(dir, 'rootfs'));
  writeFileSync(join(dir, 'Dockerfile'), ['FROM scratch', 'COPY rootfs/ /', ...extra, ''].join('\n'));
  return dir;
}

/** The regular files named `name` anywhere below `dir` (links not followed), as paths. */
export function filesNamed(dir: string, name: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => join(e.parentPath, e.name));
}
