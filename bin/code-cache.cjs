'use strict';
// The bundled CLI (dist/cli/tsbuild.cjs) compiled with V8's code cache. Parsing and compiling
// its megabyte of JavaScript takes a few tens of milliseconds; reading compiled code back from
// dist/cli/tsbuild.cjs.cache takes a few. The cache is made when the bundle is built
// (scripts/bundle.mjs) with every function compiled, not only those one run happened to call.
// V8 checks a cache against the source, its own version and its flags and rejects a stale one
// (say, after switching Node versions): the command then runs without it and, as it ends,
// keeps what it compiled. Written by temp file and rename, so that no reader ever sees half a
// cache.
const { readFileSync, writeFileSync, renameSync, rmSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

// WebAssembly runs on V8's baseline compiler only. The one module tsbuild runs is undici's
// HTTP parser, and its optimizing tier-up cost ~125 ms of a core in a build that downloads a
// 32 MB layer (the parser hands body bytes over in spans: the baseline code is as fast there).
// Set before any script compiles: V8 checks a code cache against its flags, so the caches
// written here (writeFullCodeCache) carry it too. The action's script sets the same
// (scripts/bundle-options.mjs, V8_FLAGS).
const v8 = require('node:v8');
v8.setFlagsFromString('--liftoff-only');

function scriptOf(bundle, source, cachedData) {
  // No import() in the bundle: code read from a cache has no module loader to call.
  return new vm.Script(wrap(source), { filename: bundle, cachedData });
}

/** The bundle as a script, from the cache when it has a usable one; `stale` says it had none. */
function compileBundle(bundle) {
  const source = readFileSync(bundle, 'utf8');
  let cachedData;
  try {
    cachedData = readFileSync(`${bundle}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = scriptOf(bundle, source, cachedData);
  return { script, stale: cachedData === undefined || script.cachedDataRejected === true };
}

function saveCache(bundle, data) {
  const file = `${bundle}.cache`;
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Compile every function of the bundle, not only those a run happens to call, and keep the
 * result beside it. For a process of its own (the build runs it so): it switches a V8 flag.
 */
function writeFullCodeCache(bundle) {
  // Eager compilation for this one script; the flag is back before the cache is taken, so the
  // cache carries the same flags as every later run and V8 accepts it there.
  v8.setFlagsFromString('--no-lazy');
  let script;
  try {
    script = scriptOf(bundle, readFileSync(bundle, 'utf8'), undefined);
  } finally {
    v8.setFlagsFromString('--lazy');
  }
  saveCache(bundle, script.createCachedData());
}

/**
 * Runs a bundle (a CommonJS script made by scripts/bundle.mjs) as a module of its own
 * directory, compiled from its cache; returns its exports. A stale cache is replaced, as the
 * process exits, with what the run compiled.
 */
function runBundle(bundle) {
  const { script, stale } = compileBundle(bundle);
  if (stale) {
    process.once('exit', () => {
      try {
        saveCache(bundle, script.createCachedData());
      } catch {
        // A read-only install: the next start compiles again.
      }
    });
  }
  const mod = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  mod.loaded = true;
  return mod.exports;
}

module.exports = { runBundle, writeFullCodeCache };
