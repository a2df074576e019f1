/**
 * The content part of a COPY/ADD cache key: a BLAKE3 digest over exactly the paths the
 * sources select in the build context, so that changing an unrelated (or .dockerignore'd)
 * file never changes it. What goes in, per selected entry, in walk order: its path relative
 * to the selected source, its type, its permission bits, its content hash (files), its
 * target (symlinks) or device number (devices); each source's own name and each selector.
 * What stays out: times (BuildKit leaves them out of its content keys too) and, unless
 * asked, owners (the context's owners never reach the image: they are reset to 0:0).
 * Extended attributes go in when the caller passes the way to read the ones COPY keeps
 * (BuildKit's key has them too); a file's are remembered in the stat cache with its content
 * hash (setting one changes the ctime, so a cached row never hides a change).
 *
 * Names (and symlink targets) go in as their bytes: the UTF-8 of a name that is UTF-8, which
 * pins every key made before, and the raw bytes of one that is not (byte-escaped in the walk's
 * strings; see tarfs/byte-names.ts), so two such names never hash alike.
 */
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { BuildError } from '../../../errors/index.js';
import type { PathMatcher } from '../path-matcher.js';
import { isPlainName, nameBytes, readlinkName } from '../../../tarfs/index.js';
import type { XattrIO } from '../file/copier.js';
import { compilePatterns } from '../file/patterns.js';
import { lstatOrUndefined, resolveInRoot } from '../file/root-path.js';
import { SourceView } from '../file/source-view.js';
import { resolveWildcards } from '../file/wildcards.js';
import type { EntryStat } from './entry-stat.js';
import type { EntryDigests } from './entry-digests.js';
import { blake3File, blake3SmallFileSync, type FileHasher } from './hash-file.js';
import { nowNs, type StatCache, type StatCacheDir } from './stat-cache.js';
import { walkTreeBatches, type WalkEntry } from './walk.js';

export interface ChecksumOptions {
  /** The context's .dockerignore: what it excludes is not in the context. */
  readonly matcher?: PathMatcher;
  /**
   * Follow a symlink named by a selector (inside the context), as COPY does with its sources:
   * pass true for COPY/ADD, or the key would miss a change behind the link.
   */
  readonly followLinks: boolean;
  /** COPY/ADD --exclude patterns, relative to each selected source. */
  readonly exclude?: readonly string[];
  /** Hash uid/gid too (for sources whose owners are copied). Default false: see the module comment. */
  readonly includeOwnership?: boolean;
  /** Reuses hashes of unchanged files; the caller saves it. */
  readonly statCache?: StatCache;
  /** Reads the extended attributes that belong in the key (those COPY copies). */
  readonly xattrs?: Pick<XattrIO, 'list' | 'get'>;
  /** Replaces BLAKE3-of-file (tests count calls through it). */
  readonly hashFile?: FileHasher;
  /** Keeps a short digest per selected entry, to name the files a later miss changed. */
  readonly entries?: EntryDigests;
  readonly signal?: AbortSignal;
}

/** `blake3:<hex>` over the selected paths of `contextDir`. Throws COPY_FAILED when a plain selector is missing. */
export async function checksumPaths(contextDir: string, selectors: readonly string[], opts: ChecksumOptions): Promise<string> {
  return checksum(contextDir, selectors, opts, undefined);
}

/**
 * checksumPaths, and beside it a digest of the modification times of the same entries in the
 * same order (each selected source's own time first): what a copy of the paths keeps besides
 * what the key holds. Both come from one walk.
 */
export async function checksumPathsAndTimes(
  contextDir: string,
  selectors: readonly string[],
  opts: ChecksumOptions,
): Promise<{ readonly sum: string; readonly mtimes: string }> {
  const mtimes = new TimesDigest();
  const sum = await checksum(contextDir, selectors, opts, mtimes);
  return { sum, mtimes: mtimes.digest() };
}

/** Modification times in walk order; which entry each belongs to is the content checksum's business. */
class TimesDigest {
  private readonly hasher = new Blake3Hasher();
  private pending = '';
  add(mtime: string): void {
    this.pending += mtime + '\n';
    if (this.pending.length >= 65536) {
      this.hasher.update(this.pending);
      this.pending = '';
    }
  }
  digest(): string {
    if (this.pending !== '') this.hasher.update(this.pending);
    this.pending = '';
    return 'blake3:' + this.hasher.digest('hex');
  }
}

async function checksum(contextDir: string, selectors: readonly string[], opts: ChecksumOptions, mtimes: TimesDigest | undefined): Promise<string> {
  const view = new SourceView({ root: contextDir, ownership: 'reset', ignore: opts.matcher });
  const exclude = compilePatterns(opts.exclude ?? [], '--exclude');
  // Small files are hashed synchronously unless the caller brings its own hasher.
  const hasher: FileHasher = opts.hashFile ?? ((path, signal) => Promise.resolve(blake3SmallFileSync(path) ?? blake3File(path, signal)));
  const hashFile = (path: string) => hasher(path, opts.signal);
  const digest = new Blake3Hasher();
  // The digest is over the concatenation of the lines: they go to the hasher 64 KiB at a time.
  let lines = '';
  /** One line: its fields joined by NULs. */
  const entries = opts.entries;
  const putLine = (line: string): void => {
    if (entries !== undefined) entries.line(line);
    if (!isPlainName(line)) {
      // Byte escapes: the line goes in as its exact bytes (the hasher would encode them as U+FFFD).
      digest.update(lines);
      digest.update(nameBytes(line + '\n'));
      lines = '';
      return;
    }
    lines += line + '\n';
    if (lines.length >= 65536) {
      digest.update(lines);
      lines = '';
    }
  };
  const put = (...fields: string[]): void => putLine(fields.join('\0'));
  const ownership = opts.includeOwnership === true;
  const cache = opts.statCache;
  /** The stat cache's rows of the directory the walk is in. */
  let cacheDir: StatCacheDir | undefined;
  let cacheDirPath: string | undefined;
  /** The file putKnownFiles stopped at: the stat cache does not know it (no second lookup). */
  let missed: WalkEntry | undefined;

  for (const selector of selectors) {
    put('selector', selector);
    const expanded = await resolveWildcards(view, selector, opts.followLinks);
    if (expanded.kind === 'missing-base') throw notFound(expanded.base);
    const matches = expanded.kind === 'plain' ? [expanded.path] : expanded.paths;
    for (const match of matches) {
      const rel = await resolveInRoot(contextDir, match, { followFinal: opts.followLinks, visible: view.visible });
      const st = await lstatOrUndefined(view.abs(rel));
      if (st === undefined || !(await view.visible(rel, st.isDirectory()))) throw notFound('/' + match);
      put('source', match);
      mtimes?.add(`${st.mtimeNs / 1_000_000_000n}.${st.mtimeNs % 1_000_000_000n}`);
      // Entries are hashed HASH_WINDOW at a time and written to the digest in walk order; a
      // file the stat cache knows needs no hashing and goes straight in when nothing waits,
      // and so does any other entry (its fields need no hashing, at most its xattrs): the
      // window then stays empty for the files after it.
      const window: (string[] | Promise<string[]>)[] = [];
      for await (const batch of walkTreeBatches(contextDir, rel, { ignore: opts.matcher, exclude, signal: opts.signal })) {
        let at = 0;
        while (at < batch.length) {
          if (window.length === 0) {
            at = putKnownFiles(batch, at);
            if (at === batch.length) break;
          }
          const entry = batch[at++]!;
          const s = entry.stats;
          mtimes?.add(s.mtimeKey);
          const isFile = s.isFile();
          const known = !isFile || entry === missed ? undefined : lookup(entry);
          if (window.length === 0 && !isFile) {
            put('entry', ...(await entryFields(entry, view.abs(entry.path), undefined)));
            continue;
          }
          const fields = known !== undefined ? knownFields(entry.sub, s, known) : entryFields(entry, view.abs(entry.path), cacheDir);
          if (fields instanceof Promise) fields.catch(() => {}); // awaited below, in order; this only keeps it from counting as unhandled
          window.push(fields);
          if (window.length >= HASH_WINDOW) put('entry', ...(await window.shift()!));
          // What is ready at the front goes in now, so the window empties again.
          while (window.length > 0 && !(window[0] instanceof Promise)) put('entry', ...(window.shift() as string[]));
        }
      }
      for (const fields of window) put('entry', ...(await fields));
    }
  }
  if (lines !== '') digest.update(lines);
  return 'blake3:' + digest.digest('hex');

  /** The stat cache's hash of a file entry, if it knows the file unchanged. */
  function lookup(entry: WalkEntry): string | undefined {
    if (cache === undefined) return undefined;
    if (entry.dir !== cacheDirPath) {
      cacheDirPath = entry.dir; // one string object for all siblings: V8 compares it by identity, not by content
      cacheDir = cache.dir(entry.dir);
    }
    return cacheDir!.lookup(entry.name, entry.stats);
  }

  /**
   * Writes the lines of the batch's entries from `at` on while they are files the stat cache
   * knows (knownFields' lines, at once); returns the index of the first other entry. A plain
   * function over a batch: V8 optimizes it early, where the async loop above would wait.
   */
  function putKnownFiles(batch: readonly WalkEntry[], at: number): number {
    if (cache === undefined) return at;
    for (; at < batch.length; at++) {
      const entry = batch[at]!;
      const s = entry.stats;
      if (!s.isFile()) return at;
      const known = lookup(entry);
      if (known === undefined) {
        missed = entry;
        return at;
      }
      mtimes?.add(s.mtimeKey);
      putLine(`entry\0${entry.sub}\0file\0${modeBits(s.mode)}\0${ownership ? `${s.uid}:${s.gid}\0` : ''}${known}`);
    }
    return at;
  }

  /** A file's fields when the stat cache has its hash. */
  function knownFields(sub: string, s: EntryStat, known: string): string[] {
    const fields = [sub, 'file', modeBits(s.mode)];
    if (ownership) fields.push(`${s.uid}:${s.gid}`);
    fields.push(known);
    return fields;
  }

  /** `rows`: the stat cache's rows of the entry's directory (for a file, when there is a cache). */
  async function entryFields(entry: WalkEntry, abs: string, rows: StatCacheDir | undefined): Promise<string[]> {
    const s = entry.stats;
    const fields = [entry.sub, typeOf(s), modeBits(s.mode)];
    if (ownership) fields.push(`${s.uid}:${s.gid}`);
    if (s.isFile()) {
      fields.push(await fileHash(abs, s, hashFile, rows, entry.name, opts.xattrs));
      return fields;
    }
    if (s.isSymbolicLink()) fields.push(readlinkName(abs));
    else if (s.isCharacterDevice() || s.isBlockDevice()) fields.push(s.rdev);
    if (opts.xattrs !== undefined) {
      const x = await xattrDigest(abs, opts.xattrs);
      if (x !== undefined) fields.push(x);
    }
    return fields;
  }
}

/** `xattrs:<blake3>` over the sorted names and values of a path's attributes; undefined when it has none. */
async function xattrDigest(abs: string, io: Pick<XattrIO, 'list' | 'get'>): Promise<string | undefined> {
  const names = [...(await io.list(abs))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (names.length === 0) return undefined;
  const h = new Blake3Hasher();
  for (const name of names) {
    h.update(`${name}\0${Buffer.from(await io.get(abs, name)).toString('hex')}\n`);
  }
  return 'xattrs:' + h.digest('hex');
}

const HASH_WINDOW = 32;

async function fileHash(
  abs: string,
  st: EntryStat,
  hashFile: FileHasher,
  cache: StatCacheDir | undefined,
  name: string,
  xattrs: Pick<XattrIO, 'list' | 'get'> | undefined,
): Promise<string> {
  const started = nowNs();
  let hash = await hashFile(abs);
  const x = xattrs === undefined ? undefined : await xattrDigest(abs, xattrs);
  if (x !== undefined) hash += ` ${x}`;
  cache?.record(name, st, hash, started);
  return hash;
}

/** Permission bits in octal, as written in the key. */
const modeStrings: string[] = [];
function modeBits(mode: number): string {
  const bits = mode & 0o7777;
  return (modeStrings[bits] ??= bits.toString(8));
}

function typeOf(s: EntryStat): string {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isFIFO()) return 'fifo';
  if (s.isCharacterDevice()) return 'char';
  if (s.isBlockDevice()) return 'block';
  return 'socket';
}

function notFound(path: string): BuildError {
  return new BuildError('COPY_FAILED', `failed to compute cache key: failed to calculate checksum: ${JSON.stringify(path)}: not found`, {
    hint: 'COPY/ADD sources are paths in the build context: check the path, and that .dockerignore does not leave it out.',
  });
}
