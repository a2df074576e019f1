/**
 * The CLI starts from V8's code cache beside its bundle (bin/code-cache.cjs). A copy of the
 * installed layout in a temp directory: the checkout's own cache is left to the other tests.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './shared.js';

const version = (createRequire(import.meta.url)(join(repoRoot, 'package.json')) as { version: string }).version;

describe('the code cache of the CLI bundle', () => {
  let dir: string;
  let bundle: string;
  const start = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'bin', 'start.cjs'), ...args], { encoding: 'utf8' });
  /**
   * Whether V8 takes the cache file for the bundle as it is now; asked of a new process, since
   * V8 serves a source it compiled before from memory without looking at the cache. The process
   * loads code-cache.cjs first, for the V8 flags it sets (the cache is checked against them).
   */
  const accepted = (): boolean => {
    const probe = `require(${JSON.stringify(join(dir, 'bin', 'code-cache.cjs'))});
      const { readFileSync } = require('node:fs'); const b = ${JSON.stringify(bundle)};
      const s = new (require('node:vm').Script)(require('node:module').wrap(readFileSync(b, 'utf8')), { filename: b, cachedData: readFileSync(b + '.cache') });
      process.stdout.write(String(s.cachedDataRejected));`;
    return spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).stdout === 'false';
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-code-cache-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    for (const f of ['start.cjs', 'code-cache.cjs']) copyFileSync(join(repoRoot, 'bin', f), join(dir, 'bin', f));
    copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    bundle = join(dir, 'dist', 'cli', 'tsbuild.cjs');
    copyFileSync(join(repoRoot, 'dist', 'cli', 'tsbuild.cjs'), bundle);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is made by the build, with every function compiled, and V8 takes it', () => {
    const built = join(repoRoot, 'dist', 'cli', 'tsbuild.cjs.cache');
    expect(existsSync(built)).toBe(true);
    copyFileSync(built, `${bundle}.cache`);
    expect(accepted()).toBe(true);
    // Every function compiled: much more than the few a start compiles lazily.
    const lazy = new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle }).createCachedData();
    expect(readFileSync(built).length).toBeGreaterThan(2 * lazy.length);
  });

  it('runs without a cache and leaves one that V8 takes', () => {
    rmSync(`${bundle}.cache`, { force: true });
    const r = start('--version');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`tsbuild ${version}`);
    expect(r.status).toBe(0);
    expect(accepted()).toBe(true);
  });

  it('runs past a cache V8 rejects and replaces it', () => {
    writeFileSync(`${bundle}.cache`, Buffer.alloc(4096, 7));
    expect(accepted()).toBe(false);
    const r = start('--version');
    expect(r.stdout.trim()).toBe(`tsbuild ${version}`);
    expect(r.status).toBe(0);
    expect(accepted()).toBe(true);
  });

  it('keeps the exit status and the error of a failing command', () => {
    const r = start('no-such-command');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });

  it('says clearly when the bundle is not built', () => {
    rmSync(bundle);
    const r = start('--version');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tsbuild is not built yet');
  });
});
