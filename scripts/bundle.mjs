// The CLI as one ES module (dist/cli/tsbuild.mjs, beside main.js so that every path it
// resolves relative to itself stays the same): loading one file instead of ~150 modules
// saves ~40 ms of every start. Packages with native parts or their own loading (the BLAKE3
// binding, chevrotain's bundle, undici, loaded on first registry use) stay outside.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/tsbuild.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['chevrotain', '@napi-rs/blake-hash', 'undici'],
  // Bundled CommonJS dependencies call require() for node's own modules.
  banner: { js: "import { createRequire as __tsbuildRequire } from 'node:module'; const require = __tsbuildRequire(import.meta.url);" },
  logLevel: 'warning',
});
