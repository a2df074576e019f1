// The CLI bundled into one CommonJS script, dist/cli/tsbuild.cjs, beside main.js so that every
// path a module resolves relative to itself stays the same. bin/start.cjs runs it through
// node:vm with V8's code cache: a start then neither parses nor compiles it, which Node 20 does
// not do for ES modules (its compile cache arrived in 22.1). Packages with native parts (the
// BLAKE3 binding) and undici (loaded on first registry use) stay outside, loaded by require.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

// Earlier builds' outputs (the ES module chunks of before, a code cache of another bundle).
for (const f of readdirSync('dist/cli')) if (/^tsbuild.*\.(mjs|cjs|cache)$/.test(f)) rmSync(`dist/cli/${f}`);

// chevrotain's package entry is a graph of ~100 modules; its own single-file build is the same
// code, and the bundle has it inlined either way.
const chevrotain = join(dirname(createRequire(import.meta.url).resolve('chevrotain')), '..', 'chevrotain.mjs');

await build({
  entryPoints: { tsbuild: 'dist/cli/main.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['@napi-rs/blake-hash', 'undici'],
  alias: { chevrotain },
  // Modules find files relative to themselves through import.meta.url; in the script that is
  // the bundle's own URL, and the bundle sits where they did.
  define: { 'import.meta.url': '__tsbuildModuleUrl' },
  banner: { js: "var __tsbuildModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// import() has no loader to call in a script read from V8's code cache (bin/code-cache.cjs).
if (/\bimport\(/.test(readFileSync('dist/cli/tsbuild.cjs', 'utf8'))) {
  throw new Error('dist/cli/tsbuild.cjs calls import(): load that module with require (see registry/client.ts)');
}

// The code cache, with every function compiled, made by a process of its own (it switches a V8
// flag for the compilation).
const made = spawnSync(process.execPath, ['-e', "require('./bin/code-cache.cjs').writeFullCodeCache('dist/cli/tsbuild.cjs')"], { stdio: 'inherit' });
if (made.status !== 0) throw new Error('making the code cache of dist/cli/tsbuild.cjs failed');
