import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openContentStore } from '../content/index.js';
import { isBuildError } from '../errors/index.js';
import { pushOptionsFor } from './push.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-push-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pushOptionsFor (what every push to a registry is given)', () => {
  const access = (env: NodeJS.ProcessEnv) => ({ insecure: ['reg.example:5000'], ca: new Map([['reg.example:5000', 'PEM']]), env });

  it('carries the connection options, the saved credentials, the content store and the chunk size', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'reg.example:5000': { auth: Buffer.from('ann:secret').toString('base64') } } }));
    const store = await openContentStore(join(dir, 'content'));
    const opts = await pushOptionsFor('reg.example:5000', access({ DOCKER_CONFIG: dir, TSBUILD_PUSH_CHUNK_SIZE: '1024' }), store);
    expect(opts.insecure).toEqual(['reg.example:5000']);
    expect(opts.ca?.get('reg.example:5000')).toBe('PEM');
    expect(opts.sources).toBe(store);
    expect(opts.credentials).toMatchObject({ username: 'ann', password: 'secret' });
    expect(opts.chunkSize).toBe(1024);
  });

  it('has no credentials and the default chunk size when none are set', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const store = await openContentStore(join(dir, 'content'));
    const opts = await pushOptionsFor('other.example', access({ DOCKER_CONFIG: empty, TSBUILD_PUSH_CHUNK_SIZE: '' }), store);
    expect(opts.credentials).toBeUndefined();
    expect(opts.chunkSize).toBeUndefined();
  });

  it.each(['0', '-5', '1.5', '12abc', '99999999999999999999'])('refuses TSBUILD_PUSH_CHUNK_SIZE=%s as bad usage', async (value) => {
    const store = await openContentStore(join(dir, 'content'));
    const err = await pushOptionsFor('reg.example:5000', access({ DOCKER_CONFIG: dir, TSBUILD_PUSH_CHUNK_SIZE: value }), store).catch((e: unknown) => e);
    expect(isBuildError(err) && err.code).toBe('USAGE');
    expect((err as Error).message).toBe(`invalid TSBUILD_PUSH_CHUNK_SIZE "${value}"`);
  });
});
