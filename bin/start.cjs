'use strict';
// Starts the bundled CLI (dist/cli/tsbuild.cjs, made by scripts/bundle.mjs) from its code
// cache (code-cache.cjs), as a CommonJS module of its own directory.
const { existsSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { compileBundle, saveCache } = require('./code-cache.cjs');

const bundle = join(__dirname, '..', 'dist', 'cli', 'tsbuild.cjs');
if (!existsSync(bundle)) {
  process.stderr.write('error: tsbuild is not built yet\n  hint: run `npm ci` (or `npm run build`) in the tsbuild checkout\n');
  process.exit(2);
}

const { script, stale } = compileBundle(bundle);
if (stale) {
  // What this run compiled, for the next ones.
  process.once('exit', () => {
    try {
      saveCache(bundle, script.createCachedData());
    } catch {
      // A read-only install: the next start compiles again.
    }
  });
}
const mod = { exports: {}, filename: bundle, id: bundle, loaded: false };
script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
