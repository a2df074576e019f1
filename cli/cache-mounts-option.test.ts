import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildErrorText as codeOf } from '../errors/testing.js';
import { parseCacheFrom, parseCacheTo } from './cache-options.js';

const gha = { env: { ACTIONS_RESULTS_URL: 'http://127.0.0.1:1/', ACTIONS_RUNTIME_TOKEN: 't' }, target: undefined, platform: 'linux/amd64' };

describe('--cache-to …,mounts=', () => {
  it('is left out without the key or with false, so nothing changes', () => {
    expect(parseCacheTo('type=local,dest=c')).not.toHaveProperty('mounts');
    expect(parseCacheTo('type=local,dest=c,mounts=false')).not.toHaveProperty('mounts');
  });

  it('takes true and a list of ids split by ";", on every backend', () => {
    expect(parseCacheTo('type=local,dest=c,mounts=true')).toMatchObject({ type: 'local', dest: resolve('c'), mounts: true });
    expect(parseCacheTo('type=registry,ref=r.test/c,mounts=/root/.cache;apt')).toMatchObject({ type: 'registry', mounts: ['/root/.cache', 'apt'] });
    expect(parseCacheTo('type=gha,mounts=go-build', [], gha)).toMatchObject({ type: 'gha', mounts: ['go-build'] });
    // A comma inside a quoted CSV field is the field's own: an id may hold one that way.
    expect(parseCacheTo('type=local,dest=c,"mounts=a,b;c"')).toMatchObject({ mounts: ['a,b', 'c'] });
  });

  it('refuses an empty id, and is a key of --cache-to only', () => {
    expect(codeOf(() => parseCacheTo('type=local,dest=c,mounts=a;;b'))).toBe('USAGE: --cache-to: mounts=a;;b names an empty cache mount id');
    expect(codeOf(() => parseCacheTo('type=local,dest=c,mounts=a;'))).toBe('USAGE: --cache-to: mounts=a; names an empty cache mount id');
    expect(codeOf(() => parseCacheTo('type=local,dest=c,mounts='))).toBe('USAGE: --cache-to: mounts= names an empty cache mount id');
    expect(codeOf(() => parseCacheFrom('type=local,src=c,mounts=true'))).toBe('USAGE: --cache-from type=local does not take "mounts"');
  });
});
