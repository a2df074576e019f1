/**
 * Tar plumbing shared by the outputs: read a tar entry by entry with backpressure, write a
 * tar into a temp file renamed into place, and the layer-path rules (normalised names,
 * `.wh.` whiteouts, `.wh..wh..opq` opaque directories).
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar-stream';
import { fsyncDir, tempPathFor } from '../content/index.js';
import { ExporterError } from './errors.js';

/** A tar header as tar-stream 3 reads it, with the pax records its typings leave out. */
export type TarHeader = Partial<Omit<tar.Header, 'pax'>> & Pick<tar.Header, 'name'> & {
  pax?: Readonly<Record<string, string>> | null;
};

/** tar-stream's streams are streamx streams: Node-compatible, but not Node's classes. */
export type EntryBody = NodeJS.ReadableStream & AsyncIterable<Buffer>;

export interface TarEntry {
  readonly header: TarHeader;
  /** The entry's bytes; must be consumed (or `drain`ed) before the next entry comes. */
  readonly body: EntryBody;
}

/**
 * tar-stream, loaded on first use: a build that only tags into the local store never needs it.
 * It is CommonJS: its `default` is the module in Node and in the bundle's chunks alike.
 */
const tarStream = async (): Promise<typeof tar> => ((await import('tar-stream')) as unknown as { default: typeof tar }).default;

/** Iterates a tar stream's entries; the source is destroyed if the loop stops early. */
export async function* readTar(source: Readable): AsyncGenerator<TarEntry> {
  const extract = (await tarStream()).extract();
  const feeding = pipeline(source, extract);
  feeding.catch(() => undefined); // surfaced through the iterator or awaited below
  try {
    for await (const entry of extract) {
      yield { header: entry.header as TarHeader, body: entry as unknown as EntryBody };
      entry.resume(); // whatever the consumer left unread
    }
    await feeding;
  } finally {
    if (!extract.destroyed) extract.destroy();
    if (!source.destroyed) source.destroy();
  }
}

export async function drain(body: EntryBody): Promise<void> {
  for await (const _ of body); // reading is what advances the tar to the next entry
}

export interface TarWriter {
  /** Adds an entry without a body (directory, symlink, hard link, device, fifo). */
  add(header: TarHeader): Promise<void>;
  /** Adds a file whose bytes come from `body`; `header.size` must be exact. */
  addStream(header: TarHeader, body: NodeJS.ReadableStream): Promise<void>;
  addBytes(header: TarHeader, bytes: Uint8Array): Promise<void>;
}

/**
 * Writes a tar to `dest` atomically: into a temp file beside it, fsynced, renamed into place.
 * Nothing appears at `dest` if `fill` throws.
 */
export async function writeTarFile(dest: string, fill: (w: TarWriter) => Promise<void>): Promise<void> {
  const temp = tempPathFor(dest);
  const pack = (await tarStream()).pack();
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
  const flushing = pipeline(pack, out);
  flushing.catch(() => undefined);
  const writer: TarWriter = {
    add: (header) => new Promise((resolve, reject) => pack.entry(withoutNullPax(header), (e) => (e ? reject(e) : resolve()))),
    addBytes: (header, bytes) =>
      new Promise((resolve, reject) => pack.entry(withoutNullPax(header), Buffer.from(bytes), (e) => (e ? reject(e) : resolve()))),
    addStream: async (header, body) => {
      const sink = pack.entry(withoutNullPax(header));
      await pipeline(body, sink);
    },
  };
  try {
    await fill(writer);
    pack.finalize();
    await flushing;
    await syncFile(temp);
    await rename(temp, dest);
    await fsyncDir(dirname(dest));
  } catch (e) {
    pack.destroy();
    await flushing.catch(() => undefined);
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

function withoutNullPax(h: TarHeader): Partial<tar.Header> & Pick<tar.Header, 'name'> {
  const { pax, ...rest } = h;
  return pax ? { ...rest, pax } : rest;
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
