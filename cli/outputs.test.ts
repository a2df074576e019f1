import { describe, expect, it } from 'vitest';
import { metadataJson, resolveOutputs } from './outputs.js';

const one = (spec: string, tags: string[] = []) => {
  const warnings: string[] = [];
  const outputs = resolveOutputs([spec], tags, false, warnings);
  expect(outputs).toHaveLength(1);
  return { out: outputs[0]!, warnings };
};

describe('output layer formats', () => {
  it('defaults to gzip with OCI media types, type=docker included (as current BuildKit)', () => {
    expect(one('type=oci,dest=x.tar').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: true, force: false } });
    expect(one('type=docker,dest=x.tar').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: true } });
    expect(one('type=docker,dest=x.tar,oci-mediatypes=false').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: false } });
    expect(one('type=registry,name=r.test/a:1').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: true } });
    expect(resolveOutputs([], ['r.test/a:1'], true)).toEqual([{ type: 'image', names: ['r.test/a:1'], push: { compression: 'gzip', ociMediaTypes: true } }]);
  });

  it('takes compression, its level, force-compression and oci-mediatypes', () => {
    expect(one('type=image,name=r.test/a:1,push=true,compression=zstd,compression-level=19,force-compression=true').out).toEqual({
      type: 'image',
      names: ['r.test/a:1'],
      push: { compression: 'zstd', level: 19, force: true, ociMediaTypes: true },
    });
    expect(one('type=oci,dest=x,compression=uncompressed,oci-mediatypes=false').out).toMatchObject({
      format: { compression: 'uncompressed', ociMediaTypes: false },
    });
    expect(one('type=docker,dest=x,oci-mediatypes=true,compression-level=1').out).toMatchObject({ format: { compression: 'gzip', level: 1, ociMediaTypes: true } });
    // A bare boolean key means true, as with buildx.
    expect(one('type=oci,dest=x,force-compression').out).toMatchObject({ format: { force: true } });
  });

  it('turns OCI media types on for zstd, saying so (Docker media types cannot name zstd layers)', () => {
    const { out, warnings } = one('type=docker,dest=x,compression=zstd,oci-mediatypes=false');
    expect(out).toMatchObject({ format: { compression: 'zstd', ociMediaTypes: true } });
    expect(warnings).toEqual(['compression=zstd needs OCI media types: oci-mediatypes=true is used']);
  });

  it('refuses what it cannot do, each with its own message', () => {
    const fails = (spec: string) => {
      try {
        resolveOutputs([spec], [], false);
      } catch (e) {
        return { code: (e as { code: string }).code, message: (e as Error).message };
      }
      throw new Error(`${spec} was accepted`);
    };
    expect(fails('type=oci,dest=x,compression=brotli')).toEqual({ code: 'USAGE', message: 'unknown compression "brotli"' });
    expect(fails('type=oci,dest=x,compression=estargz')).toEqual({ code: 'NOT_SUPPORTED', message: 'not supported yet: compression=estargz' });
    expect(fails('type=oci,dest=x,compression-level=10')).toEqual({ code: 'USAGE', message: 'compression-level=10 is out of range for gzip' });
    expect(fails('type=oci,dest=x,compression=zstd,compression-level=23')).toEqual({ code: 'USAGE', message: 'compression-level=23 is out of range for zstd' });
    expect(fails('type=oci,dest=x,compression=uncompressed,compression-level=3')).toEqual({ code: 'USAGE', message: 'compression-level does not apply to uncompressed layers' });
    expect(fails('type=oci,dest=x,oci-mediatypes=maybe')).toEqual({ code: 'USAGE', message: 'oci-mediatypes=maybe: use true or false' });
    expect(fails('type=image,name=a:1,compression=zstd').code).toBe('USAGE');
    expect(fails('type=local,dest=x,compression=zstd')).toMatchObject({ code: 'USAGE', message: 'output type=local does not take "compression"' });
  });
});

describe('--push, as buildx applies it', () => {
  const format = { compression: 'gzip', ociMediaTypes: true };
  it('is one output that stores and pushes the -t names, not two', () => {
    expect(resolveOutputs([], ['r.test/a:1', 'r.test/a:2'], true)).toEqual([{ type: 'image', names: ['r.test/a:1', 'r.test/a:2'], push: format }]);
  });
  it('makes an image output push, or comes after the others', () => {
    expect(resolveOutputs(['type=image'], ['r.test/a:1'], true)).toEqual([{ type: 'image', names: ['r.test/a:1'], push: format }]);
    const outs = resolveOutputs(['type=oci,dest=x.tar'], ['r.test/a:1'], true);
    expect(outs.map((o) => o.type)).toEqual(['oci', 'image']);
    expect(outs[1]).toEqual({ type: 'image', names: ['r.test/a:1'], push: format });
  });
  it('needs a name', () => {
    expect(() => resolveOutputs([], [], true)).toThrow('pushing needs a name');
    expect(() => resolveOutputs(['type=image,push=true'], [], false)).toThrow('pushing needs a name');
  });
});

describe('the metadata file', () => {
  it('has buildx\'s shape: sorted keys, the descriptor as JSON, two-space indents', () => {
    const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:m', size: 1, platform: { architecture: 'amd64', os: 'linux' } };
    const text = metadataJson({
      response: {
        'image.name': 'r.test/a:1,r.test/a:2',
        'containerimage.digest': 'sha256:m',
        'containerimage.descriptor': Buffer.from(JSON.stringify(desc)).toString('base64'),
        'containerimage.config.digest': 'sha256:c',
      },
    });
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['containerimage.config.digest', 'containerimage.descriptor', 'containerimage.digest', 'image.name']);
    expect(JSON.parse(text)).toMatchObject({ 'containerimage.descriptor': desc });
    expect(text).toMatch(/^\{\n  "containerimage\.config\.digest": "sha256:c",\n/);
  });
});

describe('names checked before the build', () => {
  const usage = (f: () => unknown, message: string) => expect(f).toThrow(expect.objectContaining({ code: 'USAGE', message }));

  it('refuses a -t that is no reference, in buildx\'s words', () => {
    usage(() => resolveOutputs([], ['Foo'], false), 'invalid tag "Foo": repository name must be lowercase');
    usage(() => resolveOutputs([], ['my image'], false), 'invalid tag "my image": invalid reference format');
    usage(() => resolveOutputs([], ['app:-1'], false), 'invalid tag "app:-1": invalid reference format');
    usage(() => resolveOutputs(['type=local,dest=out'], ['ok', 'bad:tag:x'], false), 'invalid tag "bad:tag:x": invalid reference format');
    usage(() => resolveOutputs([], ['ok:1'], true).concat(resolveOutputs([], [''], false)), 'invalid tag "": repository name must have at least one component');
  });

  it('refuses a name= that Docker cannot normalise, in BuildKit\'s words', () => {
    usage(() => resolveOutputs(['type=oci,dest=x.tar,name=Foo'], [], false), 'failed to parse Foo: invalid reference format: repository name (library/Foo) must be lowercase');
    usage(() => resolveOutputs(['type=image,name=org/Bad'], [], false), 'failed to parse org/Bad: invalid reference format: repository name (org/Bad) must be lowercase');
    usage(() => resolveOutputs(['type=docker,dest=x.tar,name=app:-x'], [], false), 'failed to parse app:-x: invalid reference format');
    usage(() => resolveOutputs(['type=registry,name=r.test/app:1@sha256:abc'], [], false), 'failed to parse r.test/app:1@sha256:abc: invalid reference format');
  });

  it('refuses up front what the store or a registry would refuse after the steps', () => {
    // A registry name with an upper-case host is a reference, but not one to push to.
    expect(() => resolveOutputs(['type=registry,name=Registry/app:1'], [], false)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => resolveOutputs(['type=image,name=app@sha512:' + 'a'.repeat(128)], [], false)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(resolveOutputs(['type=image,name=Registry/app:1'], [], false)).toEqual([{ type: 'image', names: ['Registry/app:1'] }]);
  });
});
