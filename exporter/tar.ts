/**
 * Tar plumbing shared by the outputs: read a layer tar entry by entry, write a tar into a temp
 * file renamed into place, and the layer-path rules (normalised names, `.wh.` whiteouts,
 * `.wh..wh..opq` opaque directories). Reading and writing are snapshotter's own tar reader and
 * encoder, the ones layers are made and applied with: names, link targets and xattr values
 * keep their exact bytes (names that are not UTF-8 are byte-escaped strings, byte-names.ts).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fsyncDir, tempPathFor } from '../content/index.js';
import { END_OF_ARCHIVE, encodeHeader, padding, readTar, type TarHeader, type TarReadEntry } from '../tarfs/index.js';
import { ExporterError } from './errors.js';

/**
 * The entries of an uncompressed layer tar (snapshotter's readTar); an entry's body left
 * unread is skipped. The source is destroyed if the loop stops early.
 */
export async function* readLayerTar(source: Readable): AsyncGenerator<TarReadEntry> {
  try {
    yield* readTar(source);
  } finally {
    if (!source.destroyed) source.destroy();
  }
}

export interface TarWriter {
  /** Adds an entry without a body (directory, symlink, hard link, device, fifo). */
  add(header: TarHeader): Promise<void>;
  /** Adds a file whose bytes come from `body`; `header.size` must be exact. */
  addStream(header: TarHeader, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void>;
  addBytes(header: TarHeader, bytes: Uint8Array): Promise<void>;
}

/**
 * Writes a tar to `dest` atomically: into a temp file beside it, fsynced, renamed into place.
 * Nothing appears at `dest` if `fill` throws.
 */
export async function writeTarFile(dest: string, fill: (w: TarWriter) => Promise<void>): Promise<void> {
  const temp = tempPathFor(dest);
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: 1 << 20 });
  let failure: { error: unknown } | undefined;
  out.on('error', (error) => {
    failure ??= { error };
  });
  const put = async (bytes: Uint8Array): Promise<void> => {
    if (failure !== undefined) throw failure.error;
    if (!out.write(bytes)) await once(out, 'drain'); // rejects on the stream's error
  };
  const writer: TarWriter = {
    add: (header) => put(encodeHeader(header)),
    addBytes: async (header, bytes) => {
      await writer.addStream(header, [bytes]);
    },
    addStream: async (header, body) => {
      await put(encodeHeader(header));
      let written = 0;
      for await (const chunk of body) {
        written += chunk.length;
        if (written > header.size) break;
        await put(chunk);
      }
      if (written !== header.size) {
        throw new ExporterError('BAD_IMAGE', `tar entry ${header.name}: ${written > header.size ? 'more' : 'fewer'} bytes than its size, ${header.size}`);
      }
      await put(padding(header.size));
    },
  };
  try {
    await fill(writer);
    await put(END_OF_ARCHIVE);
    out.end();
    await finished(out);
    await syncFile(temp);
    await rename(temp, dest);
    await fsyncDir(dirname(dest));
  } catch (e) {
    out.destroy();
    await finished(out).catch(() => undefined);
    await rm(temp, { force: true });
    throw e;
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * A layer entry's path, relative to the root, without `./`, leading or trailing slashes;
 * '' is the root itself. `..` that would climb out of the root is refused.
 */
export function normalizeEntryPath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new ExporterError('UNSAFE_LAYER', `layer entry "${name}" points outside the root`);
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join('/');
}

export type LayerPathKind =
  | { readonly kind: 'entry'; readonly path: string }
  | { readonly kind: 'whiteout'; readonly path: string } // path is what it deletes
  | { readonly kind: 'opaque'; readonly dir: string }    // dir's lower content is hidden
  | { readonly kind: 'ignored' };                         // other .wh..wh. metadata (aufs)

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export function classifyLayerPath(path: string): LayerPathKind {
  const base = posix.basename(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'entry', path };
  const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'ignored' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  return { kind: 'whiteout', path: dir === '' ? target : `${dir}/${target}` };
}

/** Ancestors of a normalised path, outermost first: 'a/b/c' → ['a', 'a/b']. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/');
  while (i !== -1) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}
