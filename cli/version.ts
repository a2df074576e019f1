import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The package version, read from package.json (two levels up in dist/ and in the sources). */
function readVersion(): string {
  for (const p of ['../../package.json', '../package.json']) {
    try {
      const v = (require(p) as { version?: unknown }).version;
      if (typeof v === 'string') return v;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}
export const VERSION = readVersion();
