/**
 * The GitHub Actions cache service of the tests (test/support/gha-cache.ts, blobs in azurite),
 * checked with @actions/cache — the client GitHub's own actions use — so that the service is
 * not written to fit tsbuild's client only. @actions/cache speaks the v2 service when
 * ACTIONS_CACHE_SERVICE_V2 is set; it reports through @actions/core on stdout, which the tests
 * read (RUNNER_DEBUG=1 adds the debug lines that carry the service's answers).
 * Everything runs on loopback; nothing needs root, so nothing skips.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreCache, saveCache } from '@actions/cache';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAzurite, type Azurite } from './support/azurite.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from './support/gha-cache.js';
import { writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-gha-cache-'));
const ENV = ['ACTIONS_CACHE_SERVICE_V2', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_CACHE_MODE', 'GITHUB_SERVER_URL', 'GITHUB_WORKSPACE', 'RUNNER_TEMP', 'RUNNER_DEBUG',
  // No proxy: every request goes straight to loopback.
  'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;
const savedEnv = new Map(ENV.map((k) => [k, process.env[k]]));
let azurite: Azurite;
let service: GhaCacheService;
let dirs = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  service = await startGhaCacheService(azurite);
  for (const k of ENV) delete process.env[k];
  process.env.ACTIONS_CACHE_SERVICE_V2 = 'true';
  process.env.ACTIONS_RESULTS_URL = service.url;
  for (const d of ['workspace', 'runner-temp']) mkdirSync(join(work, d));
  process.env.GITHUB_WORKSPACE = join(work, 'workspace');
  process.env.RUNNER_TEMP = join(work, 'runner-temp');
  process.env.RUNNER_DEBUG = '1';
}, 60_000);

afterAll(async () => {
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await service?.close();
  await azurite?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs `f` as a job whose runtime token is `token`; returns its result and what it reported. */
async function asJob<T>(token: string, f: () => Promise<T>): Promise<{ result: T; log: string }> {
  process.env.ACTIONS_RUNTIME_TOKEN = token;
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write);
  try {
    return { result: await f(), log: lines.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** A fresh directory of the workspace holding `files`. */
const newDir = (files: Record<string, string>) => writeContext(join(work, 'workspace', `dir-${++dirs}`), files);

const callsSince = (n: number) => service.calls.slice(n).map((c) => `${c.method} ${c.status}${c.code === undefined ? '' : ` ${c.code}`}`);

/** A Twirp call made by hand, for what @actions/cache does not show. */
async function twirp(method: string, token: string | undefined, body: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(`twirp/github.actions.results.api.v1.CacheService/${method}`, service.url), {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const main = () => service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]);
/** A pull request's run: it writes its own merge ref and reads the base branch too. */
const pullRequest = (n: number) => service.token([{ scope: `refs/pull/${n}/merge`, permission: READ | WRITE }, { scope: 'refs/heads/main', permission: READ }]);

describe('the loopback GitHub Actions cache service, with @actions/cache as its client', () => {
  it('saves a directory into azurite and restores it by its exact key', async () => {
    const dir = newDir({ 'a.txt': 'alpha', 'sub/b.txt': 'beta' });
    const before = service.calls.length;
    const saved = await asJob(main(), () => saveCache([dir], 'exact-1'));
    expect(saved.result, saved.log).toBeGreaterThan(0);
    const entry = service.entries().find((e) => e.key === 'exact-1');
    expect(entry).toMatchObject({ id: saved.result, scope: 'refs/heads/main', finalized: true });
    expect(entry?.size).toBeGreaterThan(0);

    rmSync(dir, { recursive: true });
    const restored = await asJob(main(), () => restoreCache([dir], 'exact-1'));
    expect(restored.result, restored.log).toBe('exact-1');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('alpha');
    expect(readFileSync(join(dir, 'sub/b.txt'), 'utf8')).toBe('beta');
    expect(callsSince(before)).toEqual(['CreateCacheEntry 200', 'FinalizeCacheEntryUpload 200', 'GetCacheEntryDownloadURL 200']);
  });

  it('restores by prefix: the newest entry whose key starts with the key or a restore key, an exact key first', async () => {
    const dir = newDir({ 'v.txt': 'one' });
    expect((await asJob(main(), () => saveCache([dir], 'deps-linux-aaa'))).result).toBeGreaterThan(0);
    writeContext(dir, { 'v.txt': 'two' });
    expect((await asJob(main(), () => saveCache([dir], 'deps-linux-bbb'))).result).toBeGreaterThan(0);

    const restore = async (key: string, restoreKeys: string[] = []) => {
      rmSync(dir, { recursive: true, force: true });
      const r = await asJob(main(), () => restoreCache([dir], key, restoreKeys));
      return [r.result, existsSync(join(dir, 'v.txt')) ? readFileSync(join(dir, 'v.txt'), 'utf8') : undefined];
    };
    expect(await restore('deps-linux-ccc', ['deps-windows-', 'deps-linux-'])).toEqual(['deps-linux-bbb', 'two']);
    expect(await restore('deps-linux-aaa', ['deps-linux-'])).toEqual(['deps-linux-aaa', 'one']);
    expect(await restore('deps-linux-a')).toEqual(['deps-linux-aaa', 'one']);
    expect(await restore('deps-mac-1', ['deps-mac-'])).toEqual([undefined, undefined]);
  });

  it('looks in the run\'s own branch scope first, then in the scopes it may read; writes only its own', async () => {
    const dir = newDir({ 'who.txt': 'main' });
    expect((await asJob(main(), () => saveCache([dir], 'scoped-1'))).result).toBeGreaterThan(0);

    rmSync(dir, { recursive: true });
    expect((await asJob(pullRequest(7), () => restoreCache([dir], 'scoped-1'))).result).toBe('scoped-1');
    expect(readFileSync(join(dir, 'who.txt'), 'utf8')).toBe('main');

    // The same key in the pull request's own scope is another entry, and it comes first there.
    writeContext(dir, { 'who.txt': 'pr 7' });
    expect((await asJob(pullRequest(7), () => saveCache([dir], 'scoped-1'))).result).toBeGreaterThan(0);
    expect(service.entries().filter((e) => e.key === 'scoped-1').map((e) => e.scope)).toEqual(['refs/heads/main', 'refs/pull/7/merge']);
    rmSync(dir, { recursive: true });
    expect((await asJob(pullRequest(7), () => restoreCache([dir], 'scoped-1'))).result).toBe('scoped-1');
    expect(readFileSync(join(dir, 'who.txt'), 'utf8')).toBe('pr 7');

    // Neither main nor another pull request sees what pull request 7 wrote.
    expect((await asJob(pullRequest(7), () => saveCache([dir], 'scoped-pr-only'))).result).toBeGreaterThan(0);
    rmSync(dir, { recursive: true });
    expect((await asJob(main(), () => restoreCache([dir], 'scoped-pr-only'))).result).toBeUndefined();
    expect((await asJob(pullRequest(8), () => restoreCache([dir], 'scoped-pr-only'))).result).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a second save of the same key, version and scope with Twirp already_exists (409)', async () => {
    const dir = newDir({ 'f.txt': 'first' });
    expect((await asJob(main(), () => saveCache([dir], 'dup-1'))).result).toBeGreaterThan(0);
    const before = service.calls.length;
    writeContext(dir, { 'f.txt': 'second' });
    const again = await asJob(main(), () => saveCache([dir], 'dup-1'));
    expect(again.result).toBe(-1);
    expect(again.log).toContain('(409) Conflict: cache entry with the same key, version, and scope already exists');
    expect(callsSince(before)).toEqual(['CreateCacheEntry 409 already_exists']);

    rmSync(dir, { recursive: true });
    expect((await asJob(main(), () => restoreCache([dir], 'dup-1'))).result).toBe('dup-1');
    expect(readFileSync(join(dir, 'f.txt'), 'utf8')).toBe('first');
  });

  it('answers a read-only token (a pull request from a fork) "cache write denied", and lets it restore', async () => {
    const dir = newDir({ 'r.txt': 'readable' });
    expect((await asJob(main(), () => saveCache([dir], 'ro-1'))).result).toBeGreaterThan(0);
    const readOnly = service.token([{ scope: 'refs/pull/9/merge', permission: READ }, { scope: 'refs/heads/main', permission: READ }]);

    const denied = await asJob(readOnly, () => saveCache([dir], 'ro-2'));
    expect(denied.result).toBe(-1);
    expect(denied.log).toContain('cache write denied: token has no writable scopes');
    expect(service.entries().some((e) => e.key === 'ro-2')).toBe(false);
    expect(await twirp('CreateCacheEntry', readOnly, { key: 'ro-3', version: 'v' })).toEqual({
      status: 200,
      json: { ok: false, signed_upload_url: '', message: 'cache write denied: token has no writable scopes' },
    });

    rmSync(dir, { recursive: true });
    expect((await asJob(readOnly, () => restoreCache([dir], 'ro-1'))).result).toBe('ro-1');
    expect(readFileSync(join(dir, 'r.txt'), 'utf8')).toBe('readable');
  });

  it('answers 429 with Retry-After when told to; @actions/cache reports the wait and does not retry', async () => {
    const dir = newDir({ 'l.txt': 'limited' });
    service.failNext(1, { status: 429, retryAfter: 42 }, 'CreateCacheEntry');
    const before = service.calls.length;
    const limited = await asJob(main(), () => saveCache([dir], 'limited-1'));
    expect(limited.result).toBe(-1);
    expect(limited.log).toContain('rate limit will reset in 42 seconds');
    expect(limited.log).toContain('Rate limited: Failed request: (429)');
    expect(callsSince(before)).toEqual(['CreateCacheEntry 429 resource_exhausted']);

    // The fault is spent: the same save goes through.
    expect((await asJob(main(), () => saveCache([dir], 'limited-1'))).result).toBeGreaterThan(0);
  });

  it('answers 500 to the next request when told to; @actions/cache reports it and retries', async () => {
    const dir = newDir({ 'i.txt': 'internal' });
    expect((await asJob(main(), () => saveCache([dir], 'flaky-1'))).result).toBeGreaterThan(0);
    service.failNext(1, { status: 500 }, 'GetCacheEntryDownloadURL');
    const before = service.calls.length;
    rmSync(dir, { recursive: true });
    const restored = await asJob(main(), () => restoreCache([dir], 'flaky-1'));
    expect(restored.log).toContain('Attempt 1 of 5 failed with error: Failed request: (500) Internal Server Error: internal error');
    expect(callsSince(before)).toEqual(['GetCacheEntryDownloadURL 500 internal', 'GetCacheEntryDownloadURL 200']);
    expect(restored.result).toBe('flaky-1');
    expect(readFileSync(join(dir, 'i.txt'), 'utf8')).toBe('internal');
  });

  it('signs expired download URLs when told to: azurite refuses them and nothing is restored', async () => {
    const dir = newDir({ 'e.txt': 'expiring' });
    expect((await asJob(main(), () => saveCache([dir], 'expiring-1'))).result).toBeGreaterThan(0);
    const version = service.entries().find((e) => e.key === 'expiring-1')!.version;
    const download = async () => {
      const r = await twirp('GetCacheEntryDownloadURL', main(), { key: 'expiring-1', version });
      expect(r.json).toMatchObject({ ok: true, matched_key: 'expiring-1' });
      return fetch(String(r.json.signed_download_url));
    };

    service.expireDownloadUrls(true);
    try {
      const refused = await download();
      // azurite's code for a SAS out of its time window (Azure's own says AuthenticationFailed).
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('<Code>AuthorizationFailure</Code>');
      rmSync(dir, { recursive: true });
      const restored = await asJob(main(), () => restoreCache([dir], 'expiring-1'));
      expect(restored.result).toBeUndefined();
      expect(restored.log).toContain('Failed to restore');
      expect(existsSync(join(dir, 'e.txt'))).toBe(false);
    } finally {
      service.expireDownloadUrls(false);
    }
    const served = await download();
    expect(served.status).toBe(200);
    expect(Number(served.headers.get('content-length'))).toBe(service.entries().find((e) => e.key === 'expiring-1')!.size);
  });

  it('speaks Twirp errors: unauthenticated, bad_route, invalid_argument, not_found', async () => {
    expect(await twirp('CreateCacheEntry', undefined, { key: 'k', version: 'v' })).toEqual({ status: 401, json: { code: 'unauthenticated', msg: 'a bearer token is required' } });
    expect(await twirp('CreateCacheEntry', 'not.a.token', { key: 'k', version: 'v' })).toMatchObject({ status: 401, json: { code: 'unauthenticated' } });
    expect(await twirp('DeleteCacheEntry', main(), {})).toMatchObject({ status: 404, json: { code: 'bad_route' } });
    expect(await twirp('CreateCacheEntry', main(), { key: 'k', version: 'v' }, 'application/protobuf')).toMatchObject({ status: 404, json: { code: 'bad_route' } });
    expect(await twirp('CreateCacheEntry', main(), { key: 'k' })).toEqual({ status: 400, json: { code: 'invalid_argument', msg: 'version is required' } });
    expect(await twirp('FinalizeCacheEntryUpload', main(), { key: 'never-reserved', version: 'v', size_bytes: '1' })).toMatchObject({ status: 404, json: { code: 'not_found' } });
    // A reservation whose blob was never written is not finalized.
    expect(await twirp('CreateCacheEntry', main(), { key: 'reserved-only', version: 'v' })).toMatchObject({ status: 200, json: { ok: true } });
    expect(await twirp('FinalizeCacheEntryUpload', main(), { key: 'reserved-only', version: 'v', size_bytes: '10' })).toMatchObject({ status: 412, json: { code: 'failed_precondition' } });
  });

  it('injects a fault into exactly the next N requests: Twirp 503 unavailable, a proxy\'s plain 502', async () => {
    const lookup = () => twirp('GetCacheEntryDownloadURL', main(), { key: 'exact-1', version: 'no-such-version' });
    const miss = { status: 200, json: { ok: false, signed_download_url: '', matched_key: '' } };
    service.failNext(2, { status: 503 });
    expect(await lookup()).toEqual({ status: 503, json: { code: 'unavailable', msg: 'service unavailable' } });
    expect(await lookup()).toEqual({ status: 503, json: { code: 'unavailable', msg: 'service unavailable' } });
    expect(await lookup()).toEqual(miss);

    service.failNext(1, { status: 502 });
    const res = await fetch(new URL('twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL', service.url), { method: 'POST', body: '{}' });
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([502, 'text/plain', 'Bad Gateway']);
    expect(await lookup()).toEqual(miss);
  });
});
