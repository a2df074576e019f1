'use strict';
// Starts the bundled CLI (dist/cli/tsbuild.cjs, made by scripts/bundle.mjs) from its code
// cache (code-cache.cjs), as a CommonJS module of its own directory.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { runBundle } = require('./code-cache.cjs');

const bundle = join(__dirname, '..', 'dist', 'cli', 'tsbuild.cjs');
if (!existsSync(bundle)) {
  process.stderr.write('error: tsbuild is not built yet\n  hint: run `npm ci` (or `npm run build`) in the tsbuild checkout\n');
  process.exit(2);
}
runBundle(bundle);
