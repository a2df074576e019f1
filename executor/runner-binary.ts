/**
 * Where the native runner lives: in TSBUILD_NATIVE_DIR when it is set (the GitHub Action's
 * compiled parts), else native/build/Release/ under the package root.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeDirOverride } from '../native/index.js';

const BUILD_DIR = join('native', 'build', 'Release');
const RUNNER_FILE = 'tsbuild-runner';

/** The package root: the first directory above this module holding package.json (from the
 * sources that is the checkout; from dist/executor/ it is the same, two levels up). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function runnerBinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = nativeDirOverride(env);
  return override !== undefined ? join(override, RUNNER_FILE) : join(packageRoot(), BUILD_DIR, RUNNER_FILE);
}
