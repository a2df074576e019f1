/**
 * Where the project's shared data lives (`../shared` beside the checkout, as in CI, or
 * $TSBUILD_SHARED). Missing shared data fails the tests: it is never a reason to skip.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

export function sharedDir(): string {
  const dir = process.env.TSBUILD_SHARED ?? join(repoRoot, '..', 'shared');
  if (!existsSync(dir)) {
    throw new Error(`shared data not found at ${dir}: clone tsbuild beside shared/ or set TSBUILD_SHARED`);
  }
  return dir;
}
