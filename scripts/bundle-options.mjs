// The esbuild options both bundlers share: scripts/bundle.mjs (the CLI run from a checkout or
// the npm package) and scripts/payload.mjs (what the GitHub Action ships).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** One CommonJS script for the Node versions tsbuild supports. */
export const nodeScript = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };

/** The entry of undici's bundled parts: only what the sources use of it (the file says which and why). */
export const UNDICI_PARTS = join('scripts', 'undici-entry.cjs');

/** A bundle of tsbuild's own modules (tsc's output in dist/). */
export const sourcesScript = {
  ...nodeScript,
  // chevrotain's package entry is a graph of ~100 modules; its own single-file build is the same
  // code, and the bundle has it inlined either way.
  alias: { chevrotain: join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.mjs') },
  // Modules find files relative to themselves through import.meta.url; in the script that is
  // the bundle's own URL, and the bundle sits where they did.
  define: { 'import.meta.url': '__tsbuildModuleUrl' },
  banner: { js: "var __tsbuildModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};

/**
 * The V8 flags the CLI runs with, set as its script starts (bin/code-cache.cjs sets the same
 * before it compiles the CLI's bundles, and says why): WebAssembly on the baseline compiler only.
 */
export const V8_FLAGS = "require('node:v8').setFlagsFromString('--liftoff-only');";
