/** Build contexts written from a table of files, and the busybox base image most e2e tests build first. */
import { mkdirSync, writeFileSync } from 'node:fs';
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
