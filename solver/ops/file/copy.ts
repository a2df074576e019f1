/**
 * COPY and ADD executed directly on directories, with BuildKit's rules (dockerfile2llb's
 * dispatchCopy, then solver/llbsolver/file's docopy over fsutil's Copy):
 *
 * - each source is copied on its own, in order (paths, then heredocs); a directory source
 *   copies its contents; a source path is resolved inside the source root, its own symlinks
 *   followed there (the name kept), symlinks below it copied as links;
 * - wildcards (Go filepath.Match per component) expand in name order; a wildcard that
 *   matches nothing copies nothing and is no error (BuildKit's AllowEmptyWildcard); a plain
 *   path that does not exist is `"/path": not found`;
 * - the destination is relative to the working directory; it is a directory when it ends
 *   in `/` (or `/.`) or already is one, else the single file's new name; with several file
 *   sources and such a name, each replaces the previous one, as in BuildKit;
 * - destination paths resolve inside the destination root (symlinks followed there, never
 *   out); missing parents are made with mode 0755 (or the octal --chmod) and owned by
 *   --chown (else root);
 * - ADD extracts local tar archives (detected by content) into the destination directory.
 */
import { mkdtemp, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildError } from '../../../errors/index.js';
import type { FileMode } from '../../core/index.js';
import type { PathMatcher } from '../path-matcher.js';
import { detectArchive, extractArchive } from './archive.js';
import { Copier, copyError, type XattrIO } from './copier.js';
import { containsWildcards } from './go-match.js';
import { remoteSourceError } from './remote.js';
import { mkdirAllInRoot } from './mkdir.js';
import { compilePatterns } from './patterns.js';
import { cleanAbs, cleanComponents, hostPath, lstatOrUndefined, lstatSyncOrUndefined, resolveInRoot } from './root-path.js';
import { SourceView, type SourceSpec } from './source-view.js';
import { resolveOwner, type Owner } from './users.js';
import { resolveWildcards } from './wildcards.js';

export interface HeredocFile {
  /** The heredoc's name: the file name it is written as. */
  readonly path: string;
  /** The content, already expanded and chomped as the instruction says. */
  readonly data: string;
}

export interface CopyOptions {
  /** The new snapshot's writable merged view: everything is written below it. */
  readonly destRoot: string;
  /** The destination as written (expanded); relative to `workdir` unless absolute. */
  readonly dest: string;
  /** The working directory in effect (absolute, in the image). */
  readonly workdir: string;
  /** Where path sources are read (the context, or a stage's/image's merged view). */
  readonly source: SourceSpec;
  /** Path sources as written (expanded), in order. */
  readonly sources: readonly string[];
  /** Heredoc sources, copied after the paths (as BuildKit orders them). */
  readonly heredocs?: readonly HeredocFile[];
  /** Raw `--chown` (expanded): `user[:group]`, names looked up in the destination root. */
  readonly chown?: string;
  readonly chmod?: FileMode;
  readonly exclude?: readonly string[];
  /** COPY --parents: keep each source's path (below an optional `/./` pivot). */
  readonly parents?: boolean;
  /** --link changes layering only; recorded in the result for the caller. */
  readonly link?: boolean;
  /** Extended attributes are copied only through this (Node has no xattr calls). */
  readonly xattrs?: XattrIO;
  /**
   * The new snapshot's upper dir, when `destRoot` is its merged view: a single source
   * directory copied to a destination that did not exist is written there directly (see
   * solver/ops/mounted.ts, UpperWrites), its top still made through `destRoot`.
   */
  readonly upper?: UpperTarget;
  readonly signal?: AbortSignal;
}

/** Where and when a copy may write to the upper dir itself. */
export interface UpperTarget {
  /** The upper dir: `destRoot`'s content where nothing comes from a lower layer. */
  readonly upperDir: string;
  /** Runs `task` once `destRoot` is unmounted (no change under a mounted overlay), before the commit. */
  defer(task: () => Promise<void>): void;
}

export interface AddOptions extends Omit<CopyOptions, 'parents'> {
  /** `--unpack`; undefined means true for local archives, as BuildKit's default for ADD. */
  readonly unpack?: boolean;
}

export interface CopyResult {
  /** --link was given: the caller layers the result on its own (merge), content is the same. */
  readonly link: boolean;
  /** Root-relative source paths copied (after wildcard expansion), in order. */
  readonly copied: readonly string[];
  /** Of those, the archives ADD extracted. */
  readonly extracted: readonly string[];
}

/** COPY: see the module comment for the rules. */
export async function copy(opts: CopyOptions): Promise<CopyResult> {
  return run(opts, { isAdd: false, unpack: false, parents: opts.parents ?? false });
}

/** ADD: COPY plus extraction of local archives; URL and git sources are not supported yet. */
export async function add(opts: AddOptions): Promise<CopyResult> {
  // --checksum (URL and git sources only) is checked by the frontend, as BuildKit does.
  return run(opts, { isAdd: true, unpack: opts.unpack ?? true, parents: false });
}

interface Mode {
  readonly isAdd: boolean;
  readonly unpack: boolean;
  readonly parents: boolean;
}

async function run(opts: CopyOptions, mode: Mode): Promise<CopyResult> {
  const instr = mode.isAdd ? 'ADD' : 'COPY';
  const remote = remoteSourceError(opts.sources, { instruction: instr });
  if (remote !== undefined) throw remote;
  const owner = opts.chown === undefined || opts.chown === '' ? undefined : await resolveOwner(opts.destRoot, opts.chown);
  const dest = destinationPath(opts.workdir, opts.dest);
  const exclude = compilePatterns(opts.exclude ?? [], '--exclude');
  const view = new SourceView(opts.source);
  const copied: string[] = [];
  const extracted: string[] = [];
  const common = { opts, owner, dest, exclude };
  // Writing to the upper dir must come last: one source, nothing copied after it.
  const upperOk = opts.upper !== undefined && opts.sources.length === 1 && (opts.heredocs ?? []).length === 0 && !mode.parents;

  for (const written of opts.sources) {
    opts.signal?.throwIfAborted();
    let src = written;
    let include: PathMatcher | undefined;
    let required: string | undefined;
    if (mode.parents) {
      // `a/./b/c`: copy `a`'s subtree matching `b/c`, keeping `b/c`; no pivot: pivot at the root.
      const pivot = src.indexOf('/./');
      const pattern = pivot < 0 ? src : src.slice(pivot + 3);
      src = pivot < 0 ? '/' : src.slice(0, pivot);
      const cleanPattern = cleanComponents(pattern).join('/');
      include = compilePatterns([cleanPattern], '--parents');
      if (!containsWildcards(src) && !containsWildcards(pattern)) required = cleanAbs(`${src}/${cleanPattern}`);
    }
    const expanded = await resolveWildcards(view, src, true);
    if (expanded.kind === 'missing-base') throw notFound(expanded.base, instr);
    const matches = expanded.kind === 'plain' ? [expanded.path] : expanded.paths;
    if (required !== undefined) {
      const rel = await resolveInRoot(view.root, required, { followFinal: true, visible: view.visible });
      if ((await lstatOrUndefined(view.abs(rel))) === undefined) throw notFound(required, instr);
    }
    for (const match of matches) {
      const srcRel = await resolveInRoot(view.root, match, { followFinal: true, visible: view.visible });
      const st = await lstatOrUndefined(view.abs(srcRel));
      if (st === undefined || !(await view.visible(srcRel, st.isDirectory()))) throw notFound(cleanAbs(match), instr);
      if (mode.unpack) {
        const compression = await detectArchive(view.abs(srcRel));
        if (compression !== undefined) {
          // An archive goes INTO the destination path, made as a directory (owned per --chown).
          const dirRel = await mkdirAllInRoot(opts.destRoot, dest, { mode: 0o755, owner });
          await extractArchive(view.abs(srcRel), compression, hostPath(opts.destRoot, dirRel), {
            owner,
            xattrs: opts.xattrs,
            signal: opts.signal,
          });
          copied.push(srcRel);
          extracted.push(srcRel);
          continue;
        }
      }
      await copyOne({ ...common, view, match, srcRel, include, copyDirContents: true, upper: upperOk && matches.length === 1 ? opts.upper : undefined });
      copied.push(srcRel);
    }
  }

  for (const heredoc of opts.heredocs ?? []) {
    await copyHeredoc(heredoc, common);
  }
  return { link: opts.link ?? false, copied, extracted };
}

interface CopyOneArgs {
  readonly opts: CopyOptions;
  readonly owner: Owner | undefined;
  /** Absolute destination with its trailing `/` or `/.` kept. */
  readonly dest: string;
  readonly exclude: PathMatcher | undefined;
  readonly view: SourceView;
  /** The source as matched (its base name names a file copied into a directory). */
  readonly match: string;
  /** The source resolved inside the source root. */
  readonly srcRel: string;
  readonly include: PathMatcher | undefined;
  readonly copyDirContents: boolean;
  /** Set when this is the step's last write and it may go to the upper dir. */
  readonly upper?: UpperTarget | undefined;
}

/** One fsutil Copy call: one source into the destination. */
async function copyOne(a: CopyOneArgs): Promise<void> {
  const { opts, owner, dest } = a;
  const dirMode = opts.chmod?.kind === 'octal' ? opts.chmod.mode & 0o777 : 0o755;
  const mk = { mode: dirMode, owner };
  // The destination's parent (or the destination itself when it ends in `/` or `/.`) must exist.
  const last = dest.slice(dest.lastIndexOf('/') + 1);
  await mkdirAllInRoot(opts.destRoot, last !== '' && last !== '.' ? dest.slice(0, dest.lastIndexOf('/') + 1) : dest, mk);

  const destRel = await resolveInRoot(opts.destRoot, dest, { followFinal: true });
  const srcAbs = a.view.abs(a.srcRel);
  const srcSt = await lstatOrUndefined(srcAbs);
  if (srcSt === undefined) throw notFound(cleanAbs(a.match), 'COPY');
  const srcIsDir = srcSt.isDirectory();
  const destSt = await lstatOrUndefined(hostPath(opts.destRoot, destRel));
  const destIsDir = destSt?.isDirectory() ?? false;

  let targetRel = destRel;
  if ((!a.copyDirContents && srcIsDir && destSt !== undefined) || (!srcIsDir && destIsDir)) {
    const base = cleanComponents(a.match).pop() ?? '';
    targetRel = targetRel === '' ? base : `${targetRel}/${base}`;
  }
  const parentRel = a.copyDirContents && srcIsDir && destSt === undefined ? targetRel : parentOf(targetRel);
  await mkdirAllInRoot(opts.destRoot, parentRel, mk);
  if (targetRel === '' && !srcIsDir) throw copyError('cannot copy a file onto the root directory');

  const copier = new Copier({
    view: a.view,
    owner,
    chmod: opts.chmod,
    include: a.include,
    exclude: a.exclude,
    xattrs: opts.xattrs,
    signal: opts.signal,
  });
  const upper = a.upper;
  if (upper !== undefined && srcIsDir && a.copyDirContents && destSt === undefined && a.include === undefined && targetRel !== '') {
    // The destination directory is new: mkdirAllInRoot has just made it through the merged
    // view (so overlayfs marked it opaque if a lower layer had a whiteout there), and nothing
    // below it comes from a lower layer. Its content goes to the upper dir directly.
    const direct = hostPath(upper.upperDir, targetRel);
    upper.defer(async () => {
      if (!(lstatSyncOrUndefined(direct)?.isDirectory() ?? false)) throw new Error(`internal: ${direct} is not the new directory in the upper dir`);
      await copier.copyTop(a.srcRel, direct);
    });
    return;
  }
  await copier.copyTop(a.srcRel, hostPath(opts.destRoot, targetRel));
}

/** A heredoc is a 0644 root-owned file made in a scratch directory, then copied like a path. */
async function copyHeredoc(heredoc: HeredocFile, common: Pick<CopyOneArgs, 'opts' | 'owner' | 'dest' | 'exclude'>): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'tsbuild-heredoc-'));
  try {
    const parts = cleanComponents(heredoc.path);
    if (parts.length === 0) throw copyError(`invalid heredoc file name ${JSON.stringify(heredoc.path)}`);
    const rel = parts.join('/');
    if (parts.length > 1) await mkdir(join(scratch, ...parts.slice(0, -1)), { recursive: true });
    await writeFile(join(scratch, rel), heredoc.data, { mode: 0o644 });
    const now = new Date();
    await utimes(join(scratch, rel), now, now);
    const view = new SourceView({ root: scratch, ownership: 'reset' });
    await copyOne({ ...common, view, match: rel, srcRel: rel, include: undefined, exclude: undefined, copyDirContents: false });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The destination as BuildKit computes it (pathRelativeToWorkingDir, then cleanPath): absolute,
 * clean, with a trailing `/` or `/.` kept because they make it a directory.
 */
export function destinationPath(workdir: string, dest: string): string {
  const written = dest === '' || dest === '.' ? './' : dest;
  const joined = written.startsWith('/') ? written : `${workdir === '' ? '/' : workdir}/${written}`;
  const clean = cleanAbs(joined);
  if (written.endsWith('/.')) return clean === '/' ? '/.' : `${clean}/.`;
  if (written.endsWith('/') && clean !== '/') return `${clean}/`;
  return clean;
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

function notFound(path: string, instr: string): BuildError {
  return new BuildError('COPY_FAILED', `${JSON.stringify(path)}: not found`, {
    hint: `${instr} reads sources from the build context (or the --from stage/image): check the path, and that .dockerignore does not leave it out.`,
  });
}
