import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildErrorText as codeOf } from '../errors/testing.js';
import { parseCacheFrom, parseCacheTo } from './cache-options.js';

describe('--cache-to', () => {
  it('reads type=local with buildx defaults: mode=min, gzip with OCI media types, errors not ignored', () => {
    expect(parseCacheTo('type=local,dest=ci/cache')).toEqual({
      type: 'local',
      dest: resolve('ci/cache'),
      mode: 'min',
      format: { compression: 'gzip', ociMediaTypes: true, force: false },
      form: 'manifest',
      ignoreError: false,
    });
  });

  it('takes mode, tag, the layer format keys and ignore-error; keys as buildx reads them (any case, quoted CSV)', () => {
    const warnings: string[] = [];
    expect(parseCacheTo('"type=local","DEST=/c",mode=max,tag=main,compression=zstd,compression-level=3,force-compression=true,oci-mediatypes=false,ignore-error=true', warnings)).toEqual({
      type: 'local',
      dest: '/c',
      tag: 'main',
      mode: 'max',
      format: { compression: 'zstd', level: 3, force: true, ociMediaTypes: true },
      form: 'manifest',
      ignoreError: true,
    });
    expect(warnings).toEqual(['compression=zstd needs OCI media types: oci-mediatypes=true is used']);
  });

  it('refuses what is wrong as usage errors, naming the problem', () => {
    expect(codeOf(() => parseCacheTo('type=local'))).toBe('USAGE: --cache-to type=local needs dest=DIR');
    expect(codeOf(() => parseCacheTo('type=local,dest=x,mode=all'))).toBe('USAGE: --cache-to: invalid mode "all"');
    expect(codeOf(() => parseCacheTo('type=local,dest=x,ref=y'))).toBe('USAGE: --cache-to type=local does not take "ref"');
    expect(codeOf(() => parseCacheTo('dest=x'))).toBe('USAGE: --cache-to: type required for "dest=x"');
    expect(codeOf(() => parseCacheTo('type=local,dest'))).toBe('USAGE: --cache-to: invalid value dest');
    expect(codeOf(() => parseCacheTo('type=nfs,dest=x'))).toBe('USAGE: --cache-to: unknown cache type "nfs"');
    expect(codeOf(() => parseCacheTo('type=local,dest=x,ignore-error=maybe'))).toBe('USAGE: ignore-error=maybe: use true or false');
    expect(codeOf(() => parseCacheTo('type=local,dest=x,compression=lz4'))).toMatch(/^USAGE: unknown compression "lz4"/);
  });

  it('reads type=inline: no destination, mode=min; mode=max is exported as mode=min with a warning (BuildKit exports its inline cache mode=min whatever mode= says)', () => {
    const warnings: string[] = [];
    expect(parseCacheTo('type=inline', warnings)).toEqual({ type: 'inline' });
    expect(parseCacheTo('type=inline,mode=min', warnings)).toEqual({ type: 'inline' });
    expect(warnings).toEqual([]);
    expect(parseCacheTo('type=inline,mode=max', warnings)).toEqual({ type: 'inline' });
    expect(warnings).toEqual(['--cache-to type=inline exports mode=min only (as BuildKit): the image carries the records of its own steps; use type=registry for mode=max']);
    expect(codeOf(() => parseCacheTo('type=inline,mode=all'))).toBe('USAGE: --cache-to: invalid mode "all"');
    expect(codeOf(() => parseCacheTo('type=inline,ref=r.test/c'))).toBe('USAGE: --cache-to type=inline does not take "ref"');
    expect(codeOf(() => parseCacheTo('type=inline,ignore-error=true'))).toBe('USAGE: --cache-to type=inline does not take "ignore-error"');
    // Imported with type=registry, as buildx has it.
    expect(codeOf(() => parseCacheFrom('type=inline'))).toMatch(/^USAGE: --cache-from type=inline: import an image's inline cache with type=registry,ref=IMAGE/);
  });

  it('says "not supported yet" for each backend that is not here yet', () => {
    for (const type of ['s3', 'azblob']) {
      expect(codeOf(() => parseCacheTo(`type=${type},ref=r.test/c`))).toBe(`NOT_SUPPORTED: not supported yet: --cache-to type=${type}`);
    }
  });

  it('reads type=registry with its keys, a bare reference being type=registry,ref=REF', () => {
    const gzip = { compression: 'gzip', ociMediaTypes: true, force: false };
    expect(parseCacheTo('r.test/cache:main')).toEqual({ type: 'registry', ref: 'r.test/cache:main', mode: 'min', format: gzip, form: 'manifest', ignoreError: false });
    expect(parseCacheTo('type=registry,ref=r.test/c:b,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,compression-level=3,force-compression=true,ignore-error=true')).toEqual({
      type: 'registry', ref: 'r.test/c:b', mode: 'max', format: { compression: 'zstd', ociMediaTypes: true, force: true, level: 3 }, form: 'manifest', ignoreError: true,
    });
    expect(codeOf(() => parseCacheTo('type=registry'))).toBe('USAGE: --cache-to type=registry needs ref=REFERENCE');
    expect(codeOf(() => parseCacheTo('type=registry,ref=r.test/c,dest=/x'))).toBe('USAGE: --cache-to type=registry does not take "dest"');
    expect(codeOf(() => parseCacheTo('type=registry,ref=r.test/C'))).toMatch(/^USAGE: --cache-to: invalid reference "r.test\/C"/);
    expect(codeOf(() => parseCacheTo('type=registry,ref=r.test/c,mode=all'))).toBe('USAGE: --cache-to: invalid mode "all"');
    // image-manifest and oci-mediatypes as BuildKit reads them: oci-mediatypes=false alone means an index too.
    expect(parseCacheTo('type=registry,ref=r.test/c,image-manifest=false')).toMatchObject({ form: 'oci-index', format: { ociMediaTypes: true } });
    expect(parseCacheTo('type=registry,ref=r.test/c,oci-mediatypes=false')).toMatchObject({ form: 'docker-list', format: { ociMediaTypes: false } });
    expect(parseCacheTo('type=local,dest=/c,image-manifest=false,oci-mediatypes=false')).toMatchObject({ form: 'docker-list' });
    expect(codeOf(() => parseCacheTo('type=registry,ref=r.test/c,image-manifest=true,oci-mediatypes=false'))).toBe('USAGE: --cache-to: image-manifest=true needs oci-mediatypes=true');
  });
});

describe('--cache-from', () => {
  it('reads type=local with src, and tag or digest', () => {
    expect(parseCacheFrom('type=local,src=ci/cache')).toEqual({ type: 'local', src: resolve('ci/cache') });
    expect(parseCacheFrom('type=local,src=/c,tag=main')).toEqual({ type: 'local', src: '/c', tag: 'main' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseCacheFrom(`type=local,src=/c,digest=${digest}`)).toEqual({ type: 'local', src: '/c', digest });
  });

  it('refuses what is wrong, and says "not supported yet" for the other backends', () => {
    expect(codeOf(() => parseCacheFrom('type=local'))).toBe('USAGE: --cache-from type=local needs src=DIR');
    expect(codeOf(() => parseCacheFrom('type=local,src=/c,digest=sha256:abc'))).toBe('USAGE: --cache-from: invalid digest "sha256:abc"');
    expect(codeOf(() => parseCacheFrom('type=local,src=/c,tag='))).toBe('USAGE: --cache-from type=local needs a digest=, or a tag= that is not empty');
    expect(codeOf(() => parseCacheFrom('type=local,src=/c,mode=max'))).toBe('USAGE: --cache-from type=local does not take "mode"');
    expect(codeOf(() => parseCacheFrom('type=s3,bucket=b'))).toBe('NOT_SUPPORTED: not supported yet: --cache-from type=s3');
    expect(parseCacheFrom('ghcr.io/o/cache')).toEqual({ type: 'registry', ref: 'ghcr.io/o/cache' });
    expect(parseCacheFrom('type=registry,ref=r.test/c:main')).toEqual({ type: 'registry', ref: 'r.test/c:main' });
    expect(codeOf(() => parseCacheFrom('type=registry,ref=r.test/c,mode=max'))).toBe('USAGE: --cache-from type=registry does not take "mode"');
    expect(codeOf(() => parseCacheFrom('type=registry'))).toBe('USAGE: --cache-from type=registry needs ref=REFERENCE');
  });
});

describe('type=gha', () => {
  const env = { ACTIONS_RESULTS_URL: 'http://results.test/', ACTIONS_RUNTIME_TOKEN: 'tok' };
  const d = { env, target: undefined, platform: 'linux/arm64/v8' };

  it('takes the endpoint from the environment, url= and token= overriding it, and a default scope of target and platform', () => {
    const to = parseCacheTo('type=gha,mode=max', [], d);
    expect(to).toMatchObject({ type: 'gha', scope: 'tsbuild-default-linux-arm64-v8', mode: 'max', ignoreError: false, endpoint: { url: 'http://results.test/', token: 'tok', timeoutMs: 600_000 } });
    expect(parseCacheFrom('type=gha', { ...d, target: 'test', platform: 'linux/amd64' })).toMatchObject({ scope: 'tsbuild-test-linux-amd64' });
    expect(parseCacheFrom('type=gha,scope=main,url=http://other.test,token=t2,timeout=1m30s', d)).toEqual({
      type: 'gha', scope: 'main', endpoint: { url: 'http://other.test', token: 't2', timeoutMs: 90_000 },
    });
    expect(parseCacheTo('type=gha,ignore-error=true', [], { ...d, env: { ...env, ACTIONS_CACHE_MODE: 'read' } })).toMatchObject({ cacheMode: 'read', ignoreError: true });
  });

  it('refuses a missing endpoint, a bad timeout, an unknown ACTIONS_CACHE_MODE and keys it does not take', () => {
    expect(codeOf(() => parseCacheTo('type=gha', [], { ...d, env: {} }))).toBe('USAGE: --cache-to type=gha needs url= or $ACTIONS_RESULTS_URL');
    expect(codeOf(() => parseCacheFrom('type=gha', { ...d, env: { ACTIONS_RESULTS_URL: 'http://r.test/' } }))).toBe('USAGE: --cache-from type=gha needs token= or $ACTIONS_RUNTIME_TOKEN');
    expect(codeOf(() => parseCacheTo('type=gha,timeout=10', [], d))).toBe('USAGE: --cache-to: invalid timeout "10"');
    expect(codeOf(() => parseCacheTo('type=gha', [], { ...d, env: { ...env, ACTIONS_CACHE_MODE: 'sometimes' } }))).toBe('USAGE: invalid ACTIONS_CACHE_MODE "sometimes"');
    expect(codeOf(() => parseCacheFrom('type=gha,mode=max', d))).toBe('USAGE: --cache-from type=gha does not take "mode"');
    expect(codeOf(() => parseCacheFrom(`type=gha,scope=${'s'.repeat(401)}`, d))).toBe('USAGE: --cache-from: scope= is too long');
    // ACTIONS_CACHE_MODE=none: no endpoint needed, nothing will be read or written.
    expect(parseCacheFrom('type=gha', { ...d, env: { ACTIONS_CACHE_MODE: 'none' } })).toMatchObject({ cacheMode: 'none' });
  });
});
