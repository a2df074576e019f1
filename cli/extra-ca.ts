/**
 * NODE_EXTRA_CA_CERTS, handed over by the launcher so that Node does not read it as it starts
 * (bin/tsbuild.js's shell line, and the re-execution into the mount namespace,
 * mount-namespace.ts, pass it on as TSBUILD_EXTRA_CA_CERTS; registry/http.ts says why).
 * Taken back first thing: child processes see the variable as it was given, and the registry
 * client reads the file when a TLS connection first needs it.
 */
import { accessSync, constants } from 'node:fs';

const HANDED_OVER = 'TSBUILD_EXTRA_CA_CERTS';
/** Where registry/http.ts looks for the path (a symbol of the process, as the two are apart until a build runs). */
const DEFERRED_EXTRA_CA = Symbol.for('tsbuild.deferredExtraCaCerts');

/** Puts NODE_EXTRA_CA_CERTS back in `env` and leaves its path for the registry client; `warn` as Node would. */
export function takeBackExtraCaCerts(env: NodeJS.ProcessEnv, warn: (line: string) => void): void {
  const path = env[HANDED_OVER];
  if (path === undefined) return;
  delete env[HANDED_OVER];
  env['NODE_EXTRA_CA_CERTS'] = path;
  try {
    accessSync(path, constants.R_OK);
    (globalThis as Record<symbol, unknown>)[DEFERRED_EXTRA_CA] = path;
  } catch (e) {
    // What Node itself says of a file it cannot load, and does: go on without it.
    warn(`Warning: Ignoring extra certs from \`${path}\`, load failed: ${(e as Error).message}\n`);
  }
}

/** The environment of a child that is tsbuild again: NODE_EXTRA_CA_CERTS handed over as the launcher does. */
export function handOverExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: path, ...rest } = env;
  return path === undefined || path === '' ? rest : { ...rest, [HANDED_OVER]: path };
}
