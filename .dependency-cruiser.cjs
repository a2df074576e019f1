// The dependency rules of the builder (README "Dependency rules"), checked by `npm run deps` in
// .ci/run: any violation fails it. There is no list of tolerated violations.

// Folders of the builder, top to bottom. A folder may import any folder in a LOWER layer and its
// siblings in the same layer, with the exceptions in `allowed` below.
// images/ (the local image store, references, reading an image, the layer memo) sits beside
// content/: the exporter writes into the store, the registry client parses references, and
// images/ itself needs only content/ and oci/.
const layers = [
  ['cli', 'action'],
  ['build'],
  ['frontend', 'cache', 'solver/core', 'exporter'],
  ['solver/ops'],
  ['snapshotter', 'tarfs', 'executor', 'registry', 'content', 'images', 'patternmatcher'],
  ['native'],
];
// The shared leaves: everyone may import them, they import no other folder (not even each
// other): errors/ (BuildError) and oci/ (the OCI vocabulary: digests, descriptors, media types,
// the image config; types, constants and pure functions).
const shared = ['errors', 'oci'];
const folders = [...layers.flat(), ...shared];

const below = (i) => layers.slice(i + 1).flat();
const allowed = new Map();
layers.forEach((layer, i) => {
  for (const f of layer) allowed.set(f, new Set([...layer, ...below(i), ...shared]));
});
// The CLI and the Action only turn input into a build request and render what comes back.
allowed.set('cli', new Set(['build', ...shared]));
allowed.set('action', new Set(['build', ...shared]));
// The solver core knows graphs, digests and keys, nothing of the folders that use it.
allowed.set('solver/core', new Set(shared));
// ...and because it imports nothing, the ops may import it: they implement its Op interface
// and read its neutral op description (no cycle can come of it).
allowed.get('solver/ops').add('solver/core');
// The ops reach images only through the ImageResolver the build worker hands them.
allowed.get('solver/ops').delete('images');
for (const f of shared) allowed.set(f, new Set());
// Only the build worker reads the Dockerfile language; its siblings do not (ops are below it).
for (const f of ['cache', 'solver/core', 'exporter']) allowed.get(f).delete('frontend');

const esc = (s) => s.replace(/[/.]/g, (c) => `\\${c}`);
// What tsconfig.build.json leaves out of dist/: tests and the helpers only tests use.
const TEST = '(^test/|\\.test\\.ts$|(^|/)testing\\.ts$|(^|/)suite\\.ts$)';
// What ships (tsconfig.build.json): the builder's folders and bench/, without TEST, plus the
// test/support files that tsconfig.build.json lists by name because the benchmarks run them.
const BUILDER = `^(${folders.map(esc).join('|')})/`;
const SHIPPED_SUPPORT = '^test/support/(rootfs|registry|azurite|gha-cache)\\.ts$';

const arrows = [];
for (const from of folders) {
  for (const to of folders) {
    if (to === from || allowed.get(from).has(to)) continue;
    arrows.push({
      name: `${from.replace('/', '-')}-not-to-${to.replace('/', '-')}`,
      comment: allowed.get(from).size
        ? `${from}/ may import only ${[...allowed.get(from)].filter((f) => f !== from).map((f) => `${f}/`).join(', ')}`
        : `${from}/ imports no other folder`,
      severity: 'error',
      from: { path: `^${esc(from)}/`, pathNot: TEST },
      to: { path: `^${esc(to)}/` },
    });
  }
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...arrows,
    {
      name: 'no-circular',
      comment: 'Modules form no cycle (tests included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'through-index-only',
      comment: "From outside a folder, import only its index.ts (the folder's public surface).",
      severity: 'error',
      from: { path: `^(solver/[^/]+|[^/]+)/`, pathNot: `${TEST}|^scripts/` },
      to: { path: BUILDER, pathNot: ['^$1/', '^(solver/[^/]+|[^/]+)/index\\.ts$'] },
    },
    {
      name: 'shipped-not-to-test-helpers',
      comment: 'Shipped code never imports tests or test helpers (testing.ts, suite.ts, test/).',
      severity: 'error',
      from: { path: BUILDER, pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'bench-only-shipped-test-support',
      comment: 'bench/ ships too: of the test helpers it may use only those tsconfig.build.json ships.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: TEST, pathNot: SHIPPED_SUPPORT },
    },
    {
      name: 'shipped-not-to-dev-dependencies',
      comment: 'Shipped code imports only "dependencies"; devDependencies are absent from an install.',
      severity: 'error',
      from: { path: [BUILDER, '^bench/'], pathNot: TEST },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'shipped-support-loads-dev-dependencies-at-run-time',
      comment:
        'The test services the benchmarks run (gha-cache.ts: the Azure SDK) load a devDependency only when started, by a dynamic import: dist/ loads without it, and the benchmarks, run from a checkout, have it.',
      severity: 'error',
      from: { path: SHIPPED_SUPPORT },
      to: { dependencyTypes: ['npm-dev'], dynamic: false },
    },
    {
      name: 'not-to-bench-or-scripts',
      comment: 'bench/ and scripts/ are entry points; nothing imports them.',
      severity: 'error',
      from: { pathNot: '^(bench|scripts)/' },
      to: { path: '^(bench|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a typo or a missing package fails here, not at run time).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-package',
      comment: 'Every package imported is declared in package.json.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    exclude: { path: '^(dist|action-dist|testdata|native/build)/|^\.dependency-cruiser\.cjs$' },
    doNotFollow: { path: 'node_modules' },
    // `import type` counts: a type import is an arrow between folders like any other.
    tsPreCompilationDeps: true,
    // The project's tsconfig: NodeNext, so `./x.js` specifiers resolve to `./x.ts`.
    tsConfig: { fileName: 'tsconfig.json' },
    // ESM-only packages (chevrotain, p-queue) export only the `import` condition.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
