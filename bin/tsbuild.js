#!/usr/bin/env node
// The published entry point: the compiled CLI lives in dist/ (npm run build, run by npm ci).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('error: tsbuild is not built yet\n  hint: run `npm ci` (or `npm run build`) in the tsbuild checkout\n');
  process.exit(2);
}
await import(main.href);
