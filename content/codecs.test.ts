import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressor, decompressor, type Compression } from './codecs.js';

async function collect(source: Readable, through: NodeJS.ReadWriteStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(source, through, async (s: AsyncIterable<Buffer | string>) => {
    for await (const c of s) chunks.push(Buffer.from(c));
  });
  return Buffer.concat(chunks);
}

// Half random, half repetitive: both the stored and the compressed paths of the codecs run.
const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(3 << 20, 'tsbuild ')]);
const hasZlibZstd = 'createZstdDecompress' in zlib;

describe('codecs', () => {
  for (const c of ['gzip', 'zstd'] as const) {
    it(`${c}: what it compresses comes back byte for byte, streamed in pieces`, async () => {
      const pieces = Array.from({ length: 24 }, (_, i) => data.subarray(i * (data.length / 24), (i + 1) * (data.length / 24)));
      const packed = await collect(Readable.from(pieces), compressor(c, 1)!);
      expect(packed.length).toBeLessThan(data.length);
      expect((await collect(Readable.from([packed]), decompressor(c)!)).equals(data)).toBe(true);
    });
  }

  it('zstd blobs made by the zstd program are read, and ours read by it', async () => {
    const theirs = spawnSync('zstd', ['-q', '-c'], { input: data, maxBuffer: 64 << 20 });
    expect(theirs.status).toBe(0);
    expect((await collect(Readable.from([theirs.stdout]), decompressor('zstd')!)).equals(data)).toBe(true);
    const ours = await collect(Readable.from([data]), compressor('zstd')!);
    const back = spawnSync('zstd', ['-q', '-d', '-c'], { input: ours, maxBuffer: 64 << 20 });
    expect(back.status).toBe(0);
    expect(back.stdout.equals(data)).toBe(true);
  });

  it('uncompressed has no codec', () => {
    const none: Compression = 'uncompressed';
    expect(compressor(none)).toBeUndefined();
    expect(decompressor(none)).toBeUndefined();
  });

  it('a corrupt zstd stream fails the pipeline', async () => {
    const garbage = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(4096)]);
    await expect(collect(Readable.from([garbage]), decompressor('zstd')!)).rejects.toThrow();
  });

  it.skipIf(hasZlibZstd)('without zstd in zlib nor the program, zstd fails loudly', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => compressor('zstd')).toThrow(expect.objectContaining({
        code: 'NOT_SUPPORTED',
        message: expect.stringContaining('not supported yet: zstd compression'),
      }));
    } finally {
      process.env.PATH = path;
    }
  });
});
