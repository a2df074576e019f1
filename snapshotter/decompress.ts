/**
 * Layer streams arrive gzip-compressed, zstd-compressed or plain; the magic bytes tell which.
 * The codecs are the content store's (zstd through zlib or the zstd program).
 */
import { Readable, pipeline } from 'node:stream';
import { decompressor as decompressorFor } from '../content/index.js';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

function startsWith(head: Buffer, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/** The uncompressed bytes of `source`, whatever its compression. */
export async function decompressed(source: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < ZSTD_MAGIC.length) {
    const next = await it.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    head.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    headLength += next.value.byteLength;
  }
  const first = Buffer.concat(head);
  const whole = async function* (): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value;
  };

  const compression = startsWith(first, GZIP_MAGIC) ? 'gzip' : startsWith(first, ZSTD_MAGIC) ? 'zstd' : 'uncompressed';
  const decompressor = decompressorFor(compression);
  if (decompressor === undefined) return whole();
  // pipeline tears both down when either fails or the reader stops early.
  const output = pipeline(Readable.from(whole()), decompressor, () => {});
  return output as unknown as AsyncIterable<Uint8Array>;
}
