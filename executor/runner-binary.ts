/** Where the native runner lives: native/build/Release/ under the package root. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_DIR = join('native', 'build', 'Release');

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

export function runnerBinaryPath(): string {
  return join(packageRoot(), BUILD_DIR, 'tsbuild-runner');
}
