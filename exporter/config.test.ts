import { describe, expect, it } from 'vitest';
import { asDigest, sha256Of } from '../content/index.js';
import { imageConfigBytes, manifestBytes } from './index.js';
import { goJson, goTime, MediaType } from '../oci/index.js';

const diffA = asDigest(`sha256:${'a'.repeat(64)}`);
const diffB = asDigest(`sha256:${'b'.repeat(64)}`);
const blobA = { mediaType: MediaType.ociLayerGzip, digest: asDigest(`sha256:${'1'.repeat(64)}`), size: 100 };
const blobB = { mediaType: MediaType.ociLayerGzip, digest: asDigest(`sha256:${'2'.repeat(64)}`), size: 200 };

describe('image config', () => {
  it('places extra top-level members (the inline build cache) in sorted key order, as Go writes a map; a spec member is not replaced', () => {
    const input = {
      config: {},
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      diffIds: [diffA],
      history: [{ created: '2024-02-03T04:05:06Z', created_by: 'COPY / /' }],
      created: new Date('2024-02-03T04:05:08Z'),
    };
    const plain = imageConfigBytes(input).toString();
    const extra = { records: [{ key: diffB, layers: 1 }] };
    expect(imageConfigBytes({ ...input, extra: { 'tsbuild.cache.v1': extra } }).toString()).toBe(
      plain.replace(/,"variant":"v7"\}$/, `,"tsbuild.cache.v1":${goJson(extra)},"variant":"v7"}`),
    );
    expect(Object.keys(JSON.parse(imageConfigBytes({ ...input, extra: { 'tsbuild.cache.v1': extra } }).toString()) as object)).toEqual([
      'architecture', 'config', 'created', 'history', 'os', 'rootfs', 'tsbuild.cache.v1', 'variant',
    ]);
    expect(() => imageConfigBytes({ ...input, extra: { rootfs: {} } })).toThrow(/the image config member rootfs is the spec's/);
  });

  it('is written in BuildKit key order, empty fields left out', () => {
    const bytes = imageConfigBytes({
      config: {
        Shell: ['/bin/sh', '-c'],
        Cmd: ['/bin/echo', 'hello'],
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Entrypoint: null,
        Labels: {},
        WorkingDir: '/app',
        User: 'nobody',
        Healthcheck: { Test: ['CMD', 'true'], Interval: 30_000_000_000, Retries: 3 },
        OnBuild: null,
        ExposedPorts: { '80/tcp': {} },
      },
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      diffIds: [diffA, diffB],
      history: [
        { created: '2023-05-01T10:00:00.123456789Z', created_by: 'base <layer> & more', comment: 'from base' },
        { created: new Date('2024-02-03T04:05:06.700Z'), created_by: 'RUN make', comment: 'buildkit.dockerfile.v0' },
        { created: new Date('2024-02-03T04:05:07Z'), created_by: 'CMD ["/bin/echo" "hello"]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
      ],
      created: new Date('2024-02-03T04:05:08Z'),
    });
    expect(bytes.toString()).toBe(
      '{"architecture":"arm","config":{"User":"nobody","ExposedPorts":{"80/tcp":{}},' +
        '"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/echo","hello"],' +
        '"WorkingDir":"/app","Healthcheck":{"Test":["CMD","true"],"Interval":30000000000,"Retries":3},"Shell":["/bin/sh","-c"]},' +
        '"created":"2024-02-03T04:05:08Z","history":[' +
        '{"created":"2023-05-01T10:00:00.123456789Z","created_by":"base \\u003clayer\\u003e \\u0026 more","comment":"from base"},' +
        '{"created":"2024-02-03T04:05:06.7Z","created_by":"RUN make","comment":"buildkit.dockerfile.v0"},' +
        '{"created":"2024-02-03T04:05:07Z","created_by":"CMD [\\"/bin/echo\\" \\"hello\\"]","comment":"buildkit.dockerfile.v0","empty_layer":true}],' +
        `"os":"linux","rootfs":{"type":"layers","diff_ids":["${diffA}","${diffB}"]},"variant":"v7"}`,
    );
  });

  it('writes the author (MAINTAINER) between architecture and config, as sorted keys put it', () => {
    const bytes = imageConfigBytes({
      config: { WorkingDir: '/' },
      author: 'Jane <jane@example.com>',
      platform: { os: 'linux', architecture: 'amd64' },
      diffIds: [diffA],
      history: [{ created_by: 'MAINTAINER Jane <jane@example.com>', empty_layer: true }, { created_by: 'COPY a b # buildkit' }],
      created: new Date('2024-02-03T04:05:08Z'),
    });
    expect(bytes.toString()).toBe(
      '{"architecture":"amd64","author":"Jane \\u003cjane@example.com\\u003e","config":{"WorkingDir":"/"},"created":"2024-02-03T04:05:08Z",' +
        '"history":[{"created_by":"MAINTAINER Jane \\u003cjane@example.com\\u003e","empty_layer":true},{"created_by":"COPY a b # buildkit"}],' +
        `"os":"linux","rootfs":{"type":"layers","diff_ids":["${diffA}"]}}`,
    );
  });

  it('SOURCE_DATE_EPOCH sets created and clamps later history times only', () => {
    const bytes = imageConfigBytes({
      config: {},
      platform: { os: 'linux', architecture: 'amd64' },
      diffIds: [diffA, diffB],
      history: [
        { created: '2000-01-01T00:00:00Z', created_by: 'old base' },
        { created: new Date('2030-01-01T00:00:00Z'), created_by: 'RUN x' },
        { created_by: 'CMD', empty_layer: true },
      ],
      created: new Date('2030-01-01T00:00:00Z'),
      sourceDateEpoch: 1_700_000_000,
    });
    expect(bytes.toString()).toBe(
      '{"architecture":"amd64","config":{},"created":"2023-11-14T22:13:20Z","history":[' +
        '{"created":"2000-01-01T00:00:00Z","created_by":"old base"},' +
        '{"created":"2023-11-14T22:13:20Z","created_by":"RUN x"},' +
        '{"created":"2023-11-14T22:13:20Z","created_by":"CMD","empty_layer":true}],' +
        `"os":"linux","rootfs":{"type":"layers","diff_ids":["${diffA}","${diffB}"]}}`,
    );
  });

  it('refuses history that does not match the layers', () => {
    expect(() => imageConfigBytes({
      config: {}, platform: { os: 'linux', architecture: 'amd64' }, diffIds: [diffA], history: [],
    })).toThrow(/0 layer entries for 1 layers/);
  });

  it('goTime trims like Go RFC 3339 nano; goJson escapes like Go', () => {
    expect(goTime(new Date('2024-01-01T00:00:00.000Z'))).toBe('2024-01-01T00:00:00Z');
    expect(goTime(new Date('2024-01-01T00:00:00.120Z'))).toBe('2024-01-01T00:00:00.12Z');
    expect(goJson({ s: 'a<b>&\u2028' })).toBe('{"s":"a\\u003cb\\u003e\\u0026\\u2028"}');
  });
});

describe('manifests', () => {
  const configBytes = Buffer.from('{}');
  const config = { mediaType: MediaType.ociConfig, digest: sha256Of(configBytes), size: 2 };

  it('OCI manifest', () => {
    expect(manifestBytes({ config, layers: [blobA, blobB] }).toString()).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${config.digest}","size":2},` +
        `"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${blobA.digest}","size":100},` +
        `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${blobB.digest}","size":200}]}`,
    );
  });

  it('OCI manifest with annotations, sorted', () => {
    const json = manifestBytes({ config, layers: [], annotations: { z: '1', a: '2' } }).toString();
    expect(json.endsWith('"layers":[],"annotations":{"a":"2","z":"1"}}')).toBe(true);
  });

  it('Docker schema 2 manifest converts media types (oci-mediatypes=false)', () => {
    const uncompressed = { ...blobB, mediaType: MediaType.ociLayer };
    expect(manifestBytes({ config, layers: [blobA, uncompressed], ociMediaTypes: false }).toString()).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",' +
        `"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"${config.digest}","size":2},` +
        `"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"${blobA.digest}","size":100},` +
        `{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"${blobB.digest}","size":200}]}`,
    );
  });

  it('Docker media types have no zstd layers', () => {
    expect(() => manifestBytes({ config, layers: [{ ...blobA, mediaType: MediaType.ociLayerZstd }], ociMediaTypes: false }))
      .toThrow(/no zstd layers/);
  });
});
