// The CLI bundled into one CommonJS script, dist/cli/tsbuild.cjs, beside main.js so that every
// path a module resolves relative to itself stays the same. bin/start.cjs runs it through
// node:vm with V8's code cache: a start then neither parses nor compiles it, which Node 20 does
// not do for ES modules (its compile cache arrived in 22.1). The BLAKE3 binding (native parts)
// stays outside, loaded by require. undici, needed only by builds that talk to a registry, is a
// bundle of its own with its own cache, dist/cli/tsbuild-undici.cjs, of only the parts the
// sources use (scripts/undici-entry.cjs): inside the main bundle it would make every start read
// and deserialize more cache (+12 ms measured for the whole package).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { UNDICI_PARTS, nodeScript, sourcesScript } from './bundle-options.mjs';

// Earlier builds' outputs (the ES module chunks of before, a code cache of another bundle).
for (const f of readdirSync('dist/cli')) if (/^tsbuild.*\.(mjs|cjs|cache)$/.test(f)) rmSync(`dist/cli/${f}`);

/** `import('undici')` in the sources becomes a call of runBundle on undici's own bundle. */
const undiciBundle = {
  name: 'undici-bundle',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'undici-bundle' }));
    b.onLoad({ filter: /.*/, namespace: 'undici-bundle' }, () => ({
      // Paths from the main bundle's directory (dist/cli) at run time, out of esbuild's sight.
      contents:
        "const { join } = require('node:path');\n" +
        "const codeCache = join(__dirname, '..', '..', 'bin', 'code-cache.cjs');\n" +
        "module.exports = require(codeCache).runBundle(join(__dirname, 'tsbuild-undici.cjs'));\n",
      loader: 'js',
    }));
  },
};

const main = await build({
  ...sourcesScript,
  metafile: true,
  entryPoints: { tsbuild: 'dist/cli/main.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  external: ['@napi-rs/blake-hash'],
  plugins: [undiciBundle],
});

const undici = await build({ ...nodeScript, metafile: true, entryPoints: [UNDICI_PARTS], outfile: 'dist/cli/tsbuild-undici.cjs' });

// import() has no loader to call in a script read from V8's code cache (bin/code-cache.cjs):
// every import() of the sources must be of a bundled module, which esbuild turns into a call.
for (const { metafile } of [main, undici]) {
  const loaded = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.kind === 'dynamic-import' && i.external));
  if (loaded.length > 0) throw new Error(`a bundle would import() ${loaded.map((i) => i.path).join(', ')}: bundle it, or load it with require`);
}

// The code caches, with every function compiled, made by a process of their own (it switches a
// V8 flag for the compilation).
for (const bundle of ['dist/cli/tsbuild.cjs', 'dist/cli/tsbuild-undici.cjs']) {
  const made = spawnSync(process.execPath, ['-e', `require('./bin/code-cache.cjs').writeFullCodeCache(${JSON.stringify(bundle)})`], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error(`making the code cache of ${bundle} failed`);
}

// The GitHub Action's committed payload (action-dist/), from the same dist/.
await import('./payload.mjs');
