// The CLI bundled (dist/cli/tsbuild.mjs and its chunks, beside main.js so that every path
// resolved relative to a module stays the same): loading a few files instead of ~150
// modules saves ~40 ms of every start. Packages with native parts or their own loading (the BLAKE3
// binding, chevrotain's bundle, undici, loaded on first registry use) stay outside.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry hashes: drop the previous build's before writing this one's.
for (const f of readdirSync('dist/cli')) if (/^tsbuild.*\.mjs$/.test(f)) rmSync(`dist/cli/${f}`);

await build({
  entryPoints: { tsbuild: 'dist/cli/main.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  // The commands stay a chunk of their own, loaded on demand as main.ts asks: the outer
  // process of a re-exec (`node bin/tsbuild.js build`) never parses them.
  splitting: true,
  chunkNames: 'tsbuild-[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['chevrotain', '@napi-rs/blake-hash', 'undici'],
  // Bundled CommonJS dependencies call require() for node's own modules.
  banner: { js: "import { createRequire as __tsbuildRequire } from 'node:module'; const require = __tsbuildRequire(import.meta.url);" },
  logLevel: 'warning',
});
