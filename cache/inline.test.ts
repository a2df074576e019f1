import { describe, expect, it } from 'vitest';
import { sha256Of } from '../content/index.js';
import { buildErrorText as problem } from '../errors/testing.js';
import { goJsonBytes, MediaType, type Descriptor } from '../oci/index.js';
import { encodeInlineCache, INLINE_CACHE_FIELD, parseInlineCache } from './inline.js';

const d = (s: string) => sha256Of(s);
const diffIds = [d('tar base'), d('tar run'), d('tar copy')];
const blobs: Descriptor[] = ['base', 'run', 'copy'].map((n, i) => ({ mediaType: MediaType.ociLayerGzip, digest: d(`blob ${n}`), size: 10 + i }));
const times = ['2026-01-02T03:04:05.5Z', '2026-01-02T03:05:00Z', '2026-01-02T03:06:00.123Z'];

/** An image config as the exporter writes it, with `member` under the inline field. */
const config = (member: unknown, extra: Record<string, unknown> = {}) =>
  goJsonBytes({
    architecture: 'amd64',
    history: [
      { created: times[0], created_by: 'COPY rootfs/ /' },
      { created: '2026-01-02T03:04:30Z', created_by: 'ENV A=1', empty_layer: true },
      { created: times[1], created_by: 'RUN make' },
      { created: times[2], created_by: 'COPY app /' },
    ],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
    ...(member === undefined ? {} : { [INLINE_CACHE_FIELD]: member }),
    ...extra,
  });

describe('the inline cache (image config member)', () => {
  it('has a name of its own, not BuildKit\'s moby.buildkit.cache.v0', () => {
    expect(INLINE_CACHE_FIELD).toBe('tsbuild.cache.v1');
  });

  it('records each step as the count of the image\'s bottom layers its result is, sorted by key; steps outside the image are left out', () => {
    const [k0, k1, k2, k3, side] = [d('k-empty'), d('k-base'), d('k-run'), d('k-copy'), d('k-side')];
    const value = encodeInlineCache(
      [
        { key: k3, diffIds },
        { key: side, diffIds: [diffIds[0]!, d('tar side')] },
        { key: k1, diffIds: diffIds.slice(0, 1) },
        { key: k0, diffIds: [] },
        { key: k2, diffIds: diffIds.slice(0, 2) },
        { key: d('k-longer'), diffIds: [...diffIds, d('tar more')] },
      ],
      diffIds,
    );
    const expected = [
      { key: k0, layers: 0 },
      { key: k1, layers: 1 },
      { key: k2, layers: 2 },
      { key: k3, layers: 3 },
    ].sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(value).toEqual({ records: expected });
    // Byte-stable: the order the steps come in changes nothing.
    const again = encodeInlineCache([k2, k0, k3, k1].map((key) => ({ key, diffIds: diffIds.slice(0, expected.find((r) => r.key === key)!.layers) })), diffIds);
    expect(goJsonBytes(again)).toEqual(goJsonBytes(value));
    expect(encodeInlineCache([{ key: side, diffIds: [d('tar side')] }], diffIds)).toBeUndefined();
  });

  it('reads the records back: layers the manifest\'s blobs with the config\'s diff ids and history times', () => {
    const [k1, k3] = [d('k-base'), d('k-copy')];
    const value = encodeInlineCache([{ key: k1, diffIds: diffIds.slice(0, 1) }, { key: k3, diffIds }], diffIds);
    const records = parseInlineCache(config(value), blobs, 'test')!;
    expect(records.get(k1)).toEqual([{ blob: blobs[0], diffId: diffIds[0], created: times[0] }]);
    expect(records.get(k3)).toEqual(blobs.map((blob, i) => ({ blob, diffId: diffIds[i], created: times[i] })));
    expect(records.size).toBe(2);
  });

  it('is absent from a config without the member, and a BuildKit inline cache is not taken for one', () => {
    expect(parseInlineCache(config(undefined), blobs, 'test')).toBeUndefined();
    expect(parseInlineCache(config(undefined, { 'moby.buildkit.cache.v0': 'W10=' }), blobs, 'test')).toBeUndefined();
  });

  it('refuses a member that does not parse, whole', () => {
    const key = d('k');
    expect(problem(() => parseInlineCache(config({ records: [{ key, layers: 4 }] }), blobs, 'registry:r.test/app'))).toBe(
      `CACHE_IMPORT: the build cache in the image at registry:r.test/app does not parse: record ${key} names 4 of the image's 3 layers`,
    );
    expect(problem(() => parseInlineCache(config({ records: [{ key: 'k', layers: 1 }] }), blobs, 't'))).toBe('CACHE_IMPORT: the build cache in the image at t does not parse: a record has no key');
    expect(problem(() => parseInlineCache(config('W10='), blobs, 't'))).toBe('CACHE_IMPORT: the build cache in the image at t does not parse: its tsbuild.cache.v1 has no records');
    expect(problem(() => parseInlineCache(config({ records: [] }), blobs.slice(0, 2), 't'))).toBe(
      'CACHE_IMPORT: the build cache in the image at t does not parse: its config does not list one diff id for each of its 2 layers',
    );
    expect(problem(() => parseInlineCache(Buffer.from('{'), blobs, 't'))).toBe('CACHE_IMPORT: the build cache in the image at t does not parse: its config is not JSON');
  });
});
