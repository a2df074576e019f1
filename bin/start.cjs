'use strict';
// Starts the bundled CLI (dist/cli/tsbuild.cjs, made by scripts/bundle.mjs) from its code
// cache (code-cache.cjs), as a CommonJS module of its own directory.
const { accessSync, constants, existsSync } = require('node:fs');
const { join } = require('node:path');
const { runBundle } = require('./code-cache.cjs');

// NODE_EXTRA_CA_CERTS, kept from Node's start by the launcher (bin/tsbuild.js, or the CLI's
// re-execution into its mount namespace): back in the environment for child processes, and
// left for the registry client to load when a TLS connection first needs it (registry/http.ts).
const extraCa = process.env.TSBUILD_EXTRA_CA_CERTS;
if (extraCa !== undefined) {
  delete process.env.TSBUILD_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = extraCa;
  try {
    accessSync(extraCa, constants.R_OK);
    globalThis[Symbol.for('tsbuild.deferredExtraCaCerts')] = extraCa;
  } catch (e) {
    // What Node itself says of a file it cannot load, and does: go on without it.
    process.stderr.write(`Warning: Ignoring extra certs from \`${extraCa}\`, load failed: ${e.message}\n`);
  }
}

const bundle = join(__dirname, '..', 'dist', 'cli', 'tsbuild.cjs');
if (!existsSync(bundle)) {
  process.stderr.write('error: tsbuild is not built yet\n  hint: run `npm ci` (or `npm run build`) in the tsbuild checkout\n');
  process.exit(2);
}
runBundle(bundle);
