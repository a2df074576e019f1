/**
 * Where the `tsbuild` CLI is: this checkout's `bin/tsbuild.js`, found from this module's own
 * file (dist/action/payload.js is two folders below the checkout's root; action/payload.ts, as
 * tests load it, one), run by this Node.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError } from '../errors/index.js';

/** The argv prefix that runs `tsbuild`. */
export async function tsbuildCommand(_env: NodeJS.ProcessEnv): Promise<readonly string[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bin = [join(here, '..', '..', 'bin', 'tsbuild.js'), join(here, '..', 'bin', 'tsbuild.js')].find((f) => existsSync(f));
  if (bin === undefined) throw new BuildError('IO', `the tsbuild CLI is not in the checkout above ${here}`, { hint: 'run npm ci (it builds dist/) in the checkout the action runs from' });
  return [process.execPath, bin];
}
