/**
 * Copying one resolved source into the destination with `cp -a` semantics, as fsutil's copier
 * does for BuildKit: directories merge into existing ones, a file replaces a file or symlink
 * (never a directory), symlinks are copied as links, hard links within one source stay hard
 * links, mode and times come from the source, owner from --chown or the source (0:0 for the
 * build context), --chmod applies to everything but symlinks. Nothing here follows a symlink:
 * entries are read with lstat/O_NOFOLLOW and written after removing what was in the way.
 * Paths are strings as tarfs/byte-names.ts has them: a name that is not UTF-8 is
 * byte-escaped, and every call on the disk takes its exact bytes (fsPath).
 */
import { constants, type BigIntStats } from 'node:fs';
import { chmodSync, lchownSync, linkSync, lutimesSync, mkdirSync, readlinkSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import { BuildError } from '../../../errors/index.js';
import type { MatcherDir, PathMatcher } from '../path-matcher.js';
import { applyChmod } from './file-mode.js';
import type { FileMode } from '../../core/index.js';
import { dirname } from 'node:path';
import { byteOrder, fsPath, readdirEntries } from '../../../tarfs/index.js';
import { lstatSyncOrUndefined } from './root-path.js';
import { makeNodeLike } from './special-files.js';
import type { SourceView } from './source-view.js';
import type { Owner } from './users.js';

/** Extended attributes, when the caller has a way to read and write them (Node has none). */
export interface XattrIO {
  list(path: string): Promise<readonly string[]>;
  get(path: string, name: string): Promise<Uint8Array>;
  set(path: string, name: string, value: Uint8Array): Promise<void>;
}

export interface CopierOptions {
  readonly view: SourceView;
  /** --chown, resolved; undefined keeps the source's owner (0:0 for a 'reset' view). */
  readonly owner?: Owner;
  readonly chmod?: FileMode;
  /** Matched against paths relative to the copied source (BuildKit's IncludePatterns). */
  readonly include?: PathMatcher;
  /** --exclude, matched the same way. */
  readonly exclude?: PathMatcher;
  readonly xattrs?: XattrIO;
  readonly signal?: AbortSignal;
}

interface PendingDir {
  readonly src: string;
  readonly dst: string;
  copied: boolean;
  /** Set while the directory is being made, so that concurrent children make it once. */
  creating?: Promise<void>;
}

/** How many entries of one directory are copied at once (directories stay sequential). */
const FILE_CONCURRENCY = 32;

/** Match states handed from a directory to its children. */
interface WalkStates {
  readonly include: MatcherDir | undefined;
  readonly exclude: MatcherDir | undefined;
  readonly ignore: MatcherDir | undefined;
}

const S_IFMT = 0o170000;

export class Copier {
  private readonly opts: CopierOptions;
  /** dev:ino of multiply-linked source files → the destination path of their first copy. */
  /** Hard-linked files: the first copy's path, once it is written. */
  private readonly inodes = new Map<string, Promise<string>>();
  /** Per destination directory: the group a file created in it gets (see newFileGroup). */
  private readonly newFileGroups = new Map<string, number>();
  /** Directories walked but not yet created: made when something below is copied. */
  private readonly pending: PendingDir[] = [];

  constructor(opts: CopierOptions) {
    this.opts = opts;
  }

  /**
   * Copy the source entry at root-relative `srcRel` (already resolved) to host path `target`.
   * `target`'s parent must exist and lie inside the destination root.
   */
  async copyTop(srcRel: string, target: string): Promise<void> {
    const ignore = this.opts.view.ignore;
    const states: WalkStates = {
      include: undefined,
      exclude: undefined,
      ignore: ignore === undefined || srcRel === '' ? undefined : this.opts.view.dirState(parentOf(srcRel)),
    };
    await this.copyEntry(srcRel, '', target, false, states);
  }

  private async copyEntry(srcRel: string, comps: string, target: string, overwriteMeta: boolean, parent: WalkStates): Promise<void> {
    this.opts.signal?.throwIfAborted();
    const { include: includeM, exclude: excludeM } = this.opts;
    const ignoreM = this.opts.view.ignore;
    let include = true;
    let excluded = false;
    if (comps !== '') {
      if (includeM !== undefined) include = includeM.matchesIn(comps, parent.include);
      if (excludeM !== undefined && excludeM.matchesIn(comps, parent.exclude)) {
        include = false;
        excluded = true;
      }
      if (!include && includeM === undefined && !(excludeM?.hasExceptions ?? false)) return;
    }
    const src = this.opts.view.abs(srcRel);
    const fi = lstatSyncOrUndefined(src);
    if (fi === undefined) throw copyError(`failed to stat /${srcRel}: no such file or directory`);
    const isDir = fi.isDirectory();

    // Left out of the build context by .dockerignore: absent, unless a directory with kept entries.
    let ignored = false;
    if (ignoreM !== undefined && comps !== '') {
      ignored = ignoreM.matchesIn(srcRel, parent.ignore);
      if (ignored && !isDir) return;
      if (ignored) include = false;
    }

    if (!include && !isDir) return;
    // Files and symlinks are made exclusively, and what is in the way is looked at only when
    // that fails (most targets are new: one lstat fewer per file); other kinds look first.
    const type = fi.mode & BigInt(S_IFMT);
    const createFirst = type === BigInt(constants.S_IFREG) || type === BigInt(constants.S_IFLNK);
    const targetFi = createFirst ? undefined : lstatSyncOrUndefined(target);
    if (include) await this.createPendingDirs(overwriteMeta);
    if (!isDir && !createFirst) await ensureEmptyFileTarget(target, targetFi);

    let copyInfo = include;
    let restoreTimes = false;
    let copied = false;
    switch (type) {
      case BigInt(constants.S_IFDIR): {
        const created = await this.copyDirectory(srcRel, comps, target, fi, overwriteMeta, include, excluded, ignored, parent);
        if (!overwriteMeta) {
          // The top directory: metadata only when created here; else only its times come back.
          copyInfo = created;
          restoreTimes = !created;
        }
        break;
      }
      case BigInt(constants.S_IFREG):
        copied = await this.copyRegular(src, target, fi);
        break;
      case BigInt(constants.S_IFLNK):
        // The target's bytes as they are, whatever they are.
        await replacing(target, () => symlinkSync(readlinkSync(fsPath(src), { encoding: 'buffer' }), fsPath(target)));
        break;
      case BigInt(constants.S_IFSOCK):
        // A socket becomes an empty regular file, as fsutil's mknod without the type bits does.
        await (await open(fsPath(target), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600)).close();
        break;
      default:
        await makeNodeLike(target, fi);
    }

    if (copyInfo) await this.copyFileInfo(fi, src, target, copied);
    else if (restoreTimes && targetFi !== undefined) await setTimes(target, fi);
  }

  private async copyDirectory(
    srcRel: string,
    comps: string,
    target: string,
    fi: BigIntStats,
    overwriteMeta: boolean,
    include: boolean,
    excluded: boolean,
    ignored: boolean,
    parent: WalkStates,
  ): Promise<boolean> {
    let created = false;
    const entry: PendingDir = { src: srcRel, dst: target, copied: false };
    if (include) {
      created = await copyDirectoryOnly(target, fi, overwriteMeta);
      entry.copied = true;
    }
    this.pending.push(entry);
    try {
      const { include: includeM, exclude: excludeM } = this.opts;
      const ignoreM = this.opts.view.ignore;
      if (excluded && !(excludeM?.hasExceptions ?? false)) return false;
      const ignoreState = ignoreM === undefined || srcRel === '' ? undefined : ignoreM.enterDir(srcRel, parent.ignore);
      if (ignored && ignoreState?.verdict === 'excluded-subtree') return false;
      const states: WalkStates = {
        include: includeM !== undefined && comps !== '' ? includeM.enterDir(comps, parent.include) : undefined,
        exclude: excludeM !== undefined && comps !== '' ? excludeM.enterDir(comps, parent.exclude) : undefined,
        ignore: ignoreState,
      };
      const entries = readdirEntries(this.opts.view.abs(srcRel)).sort((a, b) => byteOrder(a.name, b.name));
      // Files of a directory are copied FILE_CONCURRENCY at a time, the next as soon as one
      // is done (not batch by batch: the thread pool never runs dry at the end of a batch); a
      // subdirectory waits for them and is walked alone, so the stack of pending directories
      // stays that of one path. After a failure, what still runs is let finish first.
      const running = new Set<Promise<void>>();
      let failed: { reason: unknown } | undefined;
      const settle = async (atMost: number) => {
        while (running.size > atMost) await Promise.race(running);
        if (failed !== undefined) {
          await Promise.all(running);
          throw failed.reason;
        }
      };
      for (const entry of entries) {
        const name = entry.name;
        const childRel = srcRel === '' ? name : `${srcRel}/${name}`;
        const copyChild = () => this.copyEntry(childRel, comps === '' ? name : `${comps}/${name}`, `${target}/${name}`, true, states);
        if (entry.isDirectory()) {
          await settle(0);
          await copyChild();
        } else {
          const tracked: Promise<void> = copyChild().then(
            () => void running.delete(tracked),
            (e: unknown) => {
              failed ??= { reason: e };
              running.delete(tracked);
            },
          );
          running.add(tracked);
          await settle(FILE_CONCURRENCY - 1);
        }
      }
      await settle(0);
    } finally {
      this.pending.pop();
    }
    return created;
  }

  /** Make the directories walked through so far (fsutil's createParentDirs). */
  private async createPendingDirs(overwriteMeta: boolean): Promise<void> {
    for (const dir of this.pending) {
      if (dir.copied) continue;
      dir.creating ??= (async () => {
        const abs = this.opts.view.abs(dir.src);
        const fi = lstatSyncOrUndefined(abs);
        if (fi === undefined || !fi.isDirectory()) throw copyError(`/${dir.src} is not a directory`);
        if (await copyDirectoryOnly(dir.dst, fi, overwriteMeta)) await this.copyFileInfo(fi, abs, dir.dst);
        dir.copied = true;
      })();
      await dir.creating;
    }
  }

  /** Copies a regular file, or links it to the copy of its inode made before; true when it made a new file. */
  private async copyRegular(src: string, target: string, fi: BigIntStats): Promise<boolean> {
    let written: ((path: string) => void) | undefined;
    let failed: ((e: unknown) => void) | undefined;
    if (fi.nlink > 1n) {
      const key = `${fi.dev}:${fi.ino}`;
      const first = this.inodes.get(key);
      if (first !== undefined) {
        const path = await first;
        await replacing(target, () => linkSync(fsPath(path), fsPath(target)));
        return false;
      }
      const firstCopy = new Promise<string>((resolve, reject) => {
        written = resolve;
        failed = reject;
      });
      firstCopy.catch(() => {}); // the copy's own error is reported where it happens
      this.inodes.set(key, firstCopy);
    }
    try {
      this.opts.signal?.throwIfAborted();
      // The kernel copies (copy_file_range); EXCL refuses to write through anything at the
      // target (emptied first when that fails), and the source was lstat'ed as a regular file.
      // Owner, mode and times follow in copyFileInfo (chown first: it clears set-id bits).
      await replacing(target, () => copyFile(fsPath(src), fsPath(target), constants.COPYFILE_EXCL));
      written?.(target);
      return true;
    } catch (e) {
      failed?.(e);
      throw e;
    }
  }

  /**
   * Owner, then mode (chown clears set-id bits), then times; xattrs when possible. A file that
   * copyFile has just made (`copied`) has the source's exact mode already (libuv sets it past
   * the umask) and the owner of a new file: when that is the owner wanted and no --chmod
   * applies, chown and chmod would only say it again, two of a copied file's five system calls.
   */
  private async copyFileInfo(fi: BigIntStats, src: string, target: string, copied = false): Promise<void> {
    const owner =
      this.opts.owner ?? (this.opts.view.ownership === 'reset' ? { uid: 0, gid: 0 } : { uid: Number(fi.uid), gid: Number(fi.gid) });
    const path = fsPath(target);
    const settled = copied && this.opts.chmod === undefined && owner.uid === process.geteuid?.() && owner.gid === this.newFileGroup(dirname(target));
    if (!settled) {
      lchownSync(path, owner.uid, owner.gid);
      if (!fi.isSymbolicLink()) {
        const mode = Number(fi.mode) & 0o7777;
        chmodSync(path, this.opts.chmod === undefined ? mode : applyChmod(this.opts.chmod, mode, fi.isDirectory()) & 0o7777);
      }
    }
    await setTimes(target, fi);
    const xattrs = this.opts.xattrs;
    if (xattrs !== undefined) {
      for (const name of await xattrs.list(src)) await xattrs.set(target, name, await xattrs.get(src, name));
    }
  }

  /**
   * The group of a file created in directory `dir`: the directory's own when it is set-group-ID,
   * else ours. Read once per directory: a directory's mode and owner are set when it is made,
   * before anything is copied into it, and only its times change after.
   */
  private newFileGroup(dir: string): number {
    let gid = this.newFileGroups.get(dir);
    if (gid === undefined) {
      const st = statSync(fsPath(dir));
      gid = (st.mode & S_ISGID) !== 0 ? st.gid : (process.getegid?.() ?? -1);
      this.newFileGroups.set(dir, gid);
    }
    return gid;
  }
}

/** The set-group-ID bit of st_mode (node:fs's constants lack it). */
const S_ISGID = 0o2000;

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

export function copyError(message: string, hint?: string, cause?: unknown): BuildError {
  return new BuildError('COPY_FAILED', message, hint === undefined ? {} : { hint }, cause === undefined ? undefined : { cause });
}

/** Create directory `dst` unless it exists; an existing one takes the source mode when merging below the top. */
async function copyDirectoryOnly(dst: string, fi: BigIntStats, overwriteMeta: boolean): Promise<boolean> {
  const st = lstatSyncOrUndefined(dst);
  if (st === undefined) {
    mkdirSync(fsPath(dst), { mode: Number(fi.mode) & 0o7777 });
    return true;
  }
  if (!st.isDirectory()) {
    throw copyError(`cannot copy to non-directory: ${dst}`, 'The destination has a file or symlink where the source has a directory.');
  }
  if (overwriteMeta) chmodSync(fsPath(dst), Number(fi.mode) & 0o7777);
  return false;
}

/**
 * Make a file or link at `target` with `create` (which fails with EEXIST rather than write
 * through anything); when something is in the way, remove it as ensureEmptyFileTarget allows
 * and make it again.
 */
async function replacing(target: string, create: () => unknown): Promise<void> {
  try {
    await create();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await ensureEmptyFileTarget(target, lstatSyncOrUndefined(target));
    await create();
  }
}

/** A file may replace a file or a symlink (removed, never followed), not a directory. */
async function ensureEmptyFileTarget(target: string, st: BigIntStats | undefined): Promise<void> {
  if (st === undefined) return;
  if (st.isDirectory()) {
    throw copyError(`cannot replace to directory ${target} with file`, 'A directory exists where the source has a file.');
  }
  unlinkSync(fsPath(target));
}

/** Source times onto the target, without following a symlink target. Sub-microsecond digits are lost (Node takes seconds as a double). */
async function setTimes(target: string, fi: BigIntStats): Promise<void> {
  lutimesSync(fsPath(target), Number(fi.atimeNs) / 1e9, Number(fi.mtimeNs) / 1e9);
}
