/** `npm run bench`: every benchmark, one after the other, printing figures. */
import { run as cacheExport } from './cache-export.js';
import { run as cacheCi } from './cache-ci.js';
import { run as dockerignore } from './dockerignore.js';
import { run as engine } from './engine.js';
import { run as parse } from './parse.js';
import { run as registry } from './registry.js';

const suites: ReadonlyArray<readonly [string, () => Promise<string[]>]> = [
  ['parser', parse],
  ['.dockerignore', dockerignore],
  ['engine (tsbuild beside BuildKit and Buildah)', engine],
  ['registry (tsbuild beside skopeo copy)', registry],
  ['cache export to gha (overlapping the build)', cacheExport],
  ['cache in CI (tsbuild beside BuildKit)', cacheCi],
];

for (const [name, run] of suites) {
  process.stdout.write(`# ${name}\n`);
  for (const line of await run()) process.stdout.write(`${line}\n`);
}
