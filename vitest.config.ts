import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vitest/config';

// chevrotain's own single-file build (the CLI bundle inlines the same one): its package entry is
// a graph of ~100 modules that every test file importing the parser would load.
const chevrotain = join(dirname(createRequire(import.meta.url).resolve('chevrotain')), '..', 'chevrotain.mjs');

export default defineConfig({
  resolve: { alias: { chevrotain } },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'action-dist/**'],
    testTimeout: 60_000,
    // Under CI the results also go to a JSON file, from which .ci/run prints its summary line.
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.ci/test-results.json' },
  },
});
