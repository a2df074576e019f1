// The GitHub Action's payload, action-dist/: what the action runs from its repository as
// committed (a runner does no npm install), made anew by every `npm run build` and checked
// current by .ci/run (scripts/check-payload.sh). Its files, and nothing else:
//   main.cjs                    the action's entry point (dist/action/main.js), action.yml's runs.main
//   tsbuild.cjs                 the CLI as one script, undici inside; no code cache (V8-specific)
//   blake.linux-x64-gnu.node    the BLAKE3 binding, verbatim from @napi-rs/blake-hash's x64 package
//   native/                     what action/payload.ts compiles on the runner with gcc: the addon's
//                               and runner's C sources, build.json (sources and flags, read from
//                               binding.gyp), the Node-API headers (node-api-headers, pinned) and
//                               the seccomp program seccomp_gen made here (x64's), so that no runner
//                               needs libseccomp-dev
// Deterministic: the same sources give the same bytes (esbuild names inputs relative to the
// checkout; nothing carries a time).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { UNDICI_PARTS, V8_FLAGS, sourcesScript } from './bundle-options.mjs';

// Run from the checkout's root; another directory than action-dist/ is for the test that
// builds it twice (test/action-payload-build.test.ts).
const OUT = process.argv[2] ?? 'action-dist';
const require = createRequire(import.meta.url);

if (process.arch !== 'x64') {
  // Its seccomp program and BLAKE3 binding are x64's, taken from this machine's build.
  throw new Error(`the action payload is built on linux x64 only (this is ${process.arch})`);
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'native'), { recursive: true });

const BLAKE_PACKAGE = '@napi-rs/blake-hash-linux-x64-gnu';
const BLAKE_FILE = 'blake.linux-x64-gnu.node';
copyFileSync(join(dirname(require.resolve(`${BLAKE_PACKAGE}/package.json`)), BLAKE_FILE), join(OUT, BLAKE_FILE));

/** `@napi-rs/blake-hash` becomes the binary beside the bundle; elsewhere than linux x64 it throws. */
const blakeBeside = {
  name: 'blake-beside',
  setup(b) {
    b.onResolve({ filter: /^@napi-rs\/blake-hash$/ }, () => ({ path: 'blake', namespace: 'blake-beside' }));
    b.onLoad({ filter: /.*/, namespace: 'blake-beside' }, () => ({
      contents:
        "if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('not supported yet: ' + process.platform + '/' + process.arch + ' (the payload ships the BLAKE3 binding for linux x64 only)');\n" +
        `module.exports = require(require('node:path').join(__dirname, ${JSON.stringify(BLAKE_FILE)}));\n`,
      loader: 'js',
    }));
  },
};

/** cli/version.js reads package.json, which the payload has not: the version goes in as text. */
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const versionInline = {
  name: 'version-inline',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]cli[\\/]version\.js$/ }, () => ({ contents: `export const VERSION = ${JSON.stringify(version)};\n`, loader: 'js' }));
  },
};

/** `undici` becomes the parts of it the sources use (scripts/undici-entry.cjs), as in the CLI's own bundle. */
const undiciParts = {
  name: 'undici-parts',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: join(process.cwd(), UNDICI_PARTS) }));
  },
};

const common = { ...sourcesScript, legalComments: 'none' };

const cliBanner = { js: `${V8_FLAGS}\n${common.banner.js}` };
await build({ ...common, banner: cliBanner, entryPoints: ['dist/cli/main.js'], outfile: join(OUT, 'tsbuild.cjs'), plugins: [blakeBeside, versionInline, undiciParts] });

// action/main.ts is the entry helper's; until it lands there is no entry point to bundle, and
// action.yml's runs.main names a file still to come (said loudly, not skipped in silence).
if (existsSync('dist/action/main.js')) {
  await build({ ...common, entryPoints: ['dist/action/main.js'], outfile: join(OUT, 'main.cjs'), plugins: [blakeBeside, versionInline, undiciParts] });
} else {
  console.warn(`payload: dist/action/main.js is not built (no action/main.ts yet): ${join(OUT, 'main.cjs')} not made`);
}

// The native parts as binding.gyp describes them.
const gyp = JSON.parse(readFileSync('native/binding.gyp', 'utf8'));
const target = (name) => {
  const t = gyp.targets.find((x) => x.target_name === name);
  if (t === undefined) throw new Error(`native/binding.gyp has no target ${name}`);
  return t;
};
const addon = target('tsbuild_native');
const runner = target('tsbuild-runner');
const copySource = (rel) => {
  mkdirSync(dirname(join(OUT, 'native', rel)), { recursive: true });
  copyFileSync(join('native', rel), join(OUT, 'native', rel));
};
for (const src of [...addon.sources, ...runner.sources]) copySource(src);
for (const dir of ['addon', 'runner']) {
  for (const f of readdirSync(join('native', dir)).sort()) if (f.endsWith('.h')) copySource(join(dir, f));
}
copySource('can-link-static.sh');

const apiHeaders = join(dirname(require.resolve('node-api-headers/package.json')), 'include');
mkdirSync(join(OUT, 'native', 'node-api'));
for (const f of readdirSync(apiHeaders).sort()) copyFileSync(join(apiHeaders, f), join(OUT, 'native', 'node-api', f));

const seccompProgram = 'native/build/Release/obj/gen/seccomp_program.h';
if (!existsSync(seccompProgram)) throw new Error(`${seccompProgram} is missing: run npm ci (it builds the native parts) first`);
mkdirSync(join(OUT, 'native', 'seccomp', 'x64'), { recursive: true });
copyFileSync(seccompProgram, join(OUT, 'native', 'seccomp', 'x64', 'seccomp_program.h'));

const buildJson = {
  addon: { output: `${addon.target_name}.node`, sources: addon.sources, cflags: addon.cflags },
  runner: { output: runner.target_name, sources: runner.sources, cflags: runner.cflags },
};
writeFileSync(join(OUT, 'native', 'build.json'), `${JSON.stringify(buildJson, null, 2)}\n`);
