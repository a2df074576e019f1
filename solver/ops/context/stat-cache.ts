/**
 * A persistent map from a file's identity and metadata (path, size, mtime and ctime in ns,
 * inode) to the BLAKE3 of its content, so that re-hashing an unchanged context costs only
 * `lstat` calls. A file whose timestamps are too close to the moment it was hashed is not
 * remembered: a write within the filesystem's timestamp granularity could go unseen (git's
 * "racily clean" problem). Saved atomically: temp file, fsync, rename.
 */
import type { BigIntStats } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { BuildError } from '../../../errors/index.js';

// 2: a file's row holds its extended attributes' digest beside the content hash.
const FORMAT = 'tsbuild-stat-cache/2';

/** size, mtime ns, ctime ns, inode, hash: numbers as decimal strings (bigints in memory). */
type Row = readonly [size: string, mtimeNs: string, ctimeNs: string, ino: string, hash: string];

export interface StatCacheOptions {
  /** Files changed less than this long before hashing started are not remembered. Default 100 ms. */
  readonly racyWindowMs?: number;
}

export class StatCache {
  readonly file: string;
  private readonly rows: Map<string, Row>;
  private readonly racyWindowNs: bigint;
  private dirty = false;

  private constructor(file: string, rows: Map<string, Row>, opts: StatCacheOptions) {
    this.file = file;
    this.rows = rows;
    this.racyWindowNs = BigInt(Math.round((opts.racyWindowMs ?? 100) * 1e6));
  }

  /** Load the cache at `file`; a missing or unreadable-format file starts empty. */
  static async open(file: string, opts: StatCacheOptions = {}): Promise<StatCache> {
    let rows = new Map<string, Row>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { format?: unknown; entries?: unknown };
      if (parsed.format === FORMAT && parsed.entries !== null && typeof parsed.entries === 'object') {
        rows = new Map(Object.entries(parsed.entries as Record<string, Row>).filter(([, r]) => isRow(r)));
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && !(e instanceof SyntaxError)) {
        throw new BuildError('IO', `cannot read stat cache ${file}: ${(e as Error).message}`, {}, { cause: e });
      }
    }
    return new StatCache(file, rows, opts);
  }

  get size(): number {
    return this.rows.size;
  }

  /** The remembered hash of the file at host path `path` if its metadata is unchanged. */
  lookup(path: string, st: BigIntStats): string | undefined {
    const row = this.rows.get(path);
    if (row === undefined) return undefined;
    const [size, mtime, ctime, ino, hash] = row;
    return size === String(st.size) && mtime === String(st.mtimeNs) && ctime === String(st.ctimeNs) && ino === String(st.ino)
      ? hash
      : undefined;
  }

  /** Remember `hash` for `path`; `startedNs` is the wall-clock time (ns) before reading began. */
  record(path: string, st: BigIntStats, hash: string, startedNs: bigint): void {
    const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    if (newest >= startedNs - this.racyWindowNs) {
      if (this.rows.delete(path)) this.dirty = true;
      return;
    }
    this.rows.set(path, [String(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino), hash]);
    this.dirty = true;
  }

  /** Forget every path for which `keep` is false (e.g. files no longer in the context). */
  prune(keep: (path: string) => boolean): void {
    for (const path of this.rows.keys()) {
      if (!keep(path)) {
        this.rows.delete(path);
        this.dirty = true;
      }
    }
  }

  /** Write the cache if it changed: to a temp file beside it, fsynced, renamed into place. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const tmp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.${Date.now()}.tmp`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify({ format: FORMAT, entries: Object.fromEntries(this.rows) }));
      await handle.sync();
    } catch (e) {
      await handle.close();
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await handle.close();
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

function isRow(r: unknown): r is Row {
  return Array.isArray(r) && r.length === 5 && r.every((x) => typeof x === 'string');
}

/** Wall-clock now in ns, comparable with file timestamps. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
