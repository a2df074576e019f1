import { describe, expect, it } from 'vitest';
import { resolveOutputs } from './outputs.js';

const one = (spec: string, tags: string[] = []) => {
  const warnings: string[] = [];
  const outputs = resolveOutputs([spec], tags, false, warnings);
  expect(outputs).toHaveLength(1);
  return { out: outputs[0]!, warnings };
};

describe('output layer formats', () => {
  it('defaults to gzip with OCI media types, and Docker media types for type=docker (as BuildKit)', () => {
    expect(one('type=oci,dest=x.tar').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: true, force: false } });
    expect(one('type=docker,dest=x.tar').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: false } });
    expect(one('type=registry,name=r.test/a:1').out).toMatchObject({ format: { compression: 'gzip', ociMediaTypes: true } });
    expect(resolveOutputs([], ['r.test/a:1'], true)).toContainEqual({ type: 'registry', names: ['r.test/a:1'], format: { compression: 'gzip', ociMediaTypes: true } });
  });

  it('takes compression, its level, force-compression and oci-mediatypes', () => {
    expect(one('type=image,name=r.test/a:1,push=true,compression=zstd,compression-level=19,force-compression=true').out).toEqual({
      type: 'registry',
      names: ['r.test/a:1'],
      format: { compression: 'zstd', level: 19, force: true, ociMediaTypes: true },
    });
    expect(one('type=oci,dest=x,compression=uncompressed,oci-mediatypes=false').out).toMatchObject({
      format: { compression: 'uncompressed', ociMediaTypes: false },
    });
    expect(one('type=docker,dest=x,oci-mediatypes=true,compression-level=1').out).toMatchObject({ format: { compression: 'gzip', level: 1, ociMediaTypes: true } });
    // A bare boolean key means true, as with buildx.
    expect(one('type=oci,dest=x,force-compression').out).toMatchObject({ format: { force: true } });
  });

  it('turns OCI media types on for zstd, saying so (Docker media types cannot name zstd layers)', () => {
    const { out, warnings } = one('type=docker,dest=x,compression=zstd');
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
