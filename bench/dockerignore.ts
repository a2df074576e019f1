/**
 * .dockerignore matching speed: a synthetic 100,000-path context (dependencies, sources, build
 * outputs, VCS objects) against a realistic 50-pattern ignore file. Prints figures, asserts
 * nothing. Run after `npm run build`: `node dist/bench/dockerignore.js`.
 */

import { argv } from 'node:process';
import { pathToFileURL } from 'node:url';
import { compileMatcher, filterPaths, parseIgnoreFile } from '../patternmatcher/index.js';

const PATH_COUNT = 100_000;
const REPETITIONS = 7;

const IGNORE_FILE = `# dependencies and VCS
.git
.hg
node_modules
!node_modules/@internal/**
**/node_modules/.cache
bower_components
vendor/bundle
.venv
**/__pycache__
**/*.py[cod]

# build outputs
dist
build
out
coverage
.nyc_output
target/**
!build/release-notes.md
**/*.tsbuildinfo
*.o
**/*.map
!dist/public/**/*.map

# logs and temp files
logs
*.log
**/npm-debug.log*
**/yarn-error.log*
tmp/
**/*.tmp
**/*~
**/.DS_Store
**/Thumbs.db

# editors and tooling
.idea
.vscode
!.vscode/settings.json
*.swp
.env
.env.*
!.env.example
**/.eslintcache
**/.pytest_cache
secrets/**

# tests and docs not needed in the image
**/__snapshots__
src/**/*.test.ts
src/**/*.spec.ts
docs/**/*.png
!docs/**/logo.png
*.md
!README.md
Dockerfile*
docker-compose*.yml
.dockerignore
`;

/** A small deterministic generator, so every run measures the same context. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Files under realistic trees, plus every directory on the way (as a walker lists them). */
export function syntheticContext(count: number): string[] {
  const random = prng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const word = (): string => pick(['core', 'util', 'api', 'auth', 'db', 'http', 'ui', 'cli', 'parser', 'model']);
  const generators: readonly (() => string)[] = [
    () => `node_modules/${pick(['react', 'lodash', '@internal/shared', '@types/node', 'express', 'zod'])}/${pick(['lib', 'dist', 'src', 'esm'])}/${word()}/${word()}${Math.floor(random() * 50)}.${pick(['js', 'd.ts', 'js.map', 'json'])}`,
    () => `node_modules/${pick(['webpack', 'babel-core', 'jest'])}/node_modules/${word()}-${word()}/lib/${word()}.js`,
    () => `src/${word()}/${word()}/${word()}${Math.floor(random() * 40)}.${pick(['ts', 'test.ts', 'spec.ts', 'tsx', 'css'])}`,
    () => `src/${word()}/__snapshots__/${word()}.test.ts.snap`,
    () => `dist/${pick(['public', 'server'])}/${word()}/${word()}.${pick(['js', 'js.map', 'css'])}`,
    () => `build/${pick(['release-notes.md', 'obj/a.o', `${word()}/${word()}.o`])}`,
    () => `.git/objects/${Math.floor(random() * 256).toString(16).padStart(2, '0')}/${Math.floor(random() * 2 ** 32).toString(16)}`,
    () => `logs/${word()}-${Math.floor(random() * 100)}.log`,
    () => `docs/${word()}/${pick(['index.md', 'logo.png', 'diagram.png', 'guide.md'])}`,
    () => `services/${word()}/${pick(['main.go', 'handler.go', 'main_test.go', 'README.md'])}`,
    () => `py/${word()}/${pick(['__init__.py', 'models.py', '__pycache__/models.cpython-312.pyc', 'util.pyc'])}`,
    () => pick(['README.md', 'package.json', 'tsconfig.json', '.env', '.env.example', 'Dockerfile', '.vscode/settings.json', '.idea/workspace.xml']),
  ];
  const seen = new Set<string>();
  const paths: string[] = [];
  const add = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    paths.push(path);
  };
  while (paths.length < count) {
    const file = pick(generators)();
    for (let slash = file.indexOf('/'); slash !== -1; slash = file.indexOf('/', slash + 1)) add(file.slice(0, slash));
    add(file);
  }
  return paths.slice(0, count);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

/** Runs the benchmark; returns the lines to print. */
export async function run(): Promise<string[]> {
  const paths = syntheticContext(PATH_COUNT);
  const patterns = parseIgnoreFile(IGNORE_FILE, '.dockerignore');

  const compileTimes: number[] = [];
  const filterTimes: number[] = [];
  const perPathTimes: number[] = [];
  let kept = 0;
  for (let i = 0; i < REPETITIONS; i++) {
    const t0 = performance.now();
    const matcher = compileMatcher(parseIgnoreFile(IGNORE_FILE, '.dockerignore'));
    const t1 = performance.now();
    kept = filterPaths(matcher, paths).length;
    const t2 = performance.now();
    let excluded = 0;
    for (const path of paths) if (matcher.matches(path)) excluded++;
    const t3 = performance.now();
    if (excluded === -1) throw new Error('unreachable'); // keep the loop observable
    compileTimes.push(t1 - t0);
    filterTimes.push(t2 - t1);
    perPathTimes.push(t3 - t2);
  }

  const compileMs = median(compileTimes);
  const filterMs = median(filterTimes);
  const perPathMs = median(perPathTimes);
  return [
    `dockerignore: ${paths.length.toLocaleString('en-US')} paths, ${patterns.length} patterns, median of ${REPETITIONS}`,
    `  parse + compile         ${compileMs.toFixed(2)} ms`,
    `  filterPaths (walker)    ${filterMs.toFixed(1)} ms   ${formatRate(paths.length / (filterMs / 1000))} paths/s   kept ${kept.toLocaleString('en-US')}`,
    `  compile + filter        ${(compileMs + filterMs).toFixed(1)} ms`,
    `  matches() per path      ${perPathMs.toFixed(1)} ms   ${formatRate(paths.length / (perPathMs / 1000))} paths/s   (ancestors re-evaluated each time)`,
  ];
}

if (argv[1] !== undefined && import.meta.url === pathToFileURL(argv[1]).href) {
  for (const line of await run()) console.log(line);
}
