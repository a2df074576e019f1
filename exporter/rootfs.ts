/**
 * The final root filesystem of an image, from its layer tars applied in order: as a
 * directory (`type=local`) or as one flattened tar (`type=tar`). Whiteouts (`.wh.NAME`) and
 * opaque directories (`.wh..wh..opq`) are applied, never copied. Layers are read with the
 * layer tar reader and the flattened tar written with its encoder (tar.ts), so names, link
 * targets and xattr values keep their exact bytes: a name that is not UTF-8 is a byte-escaped
 * string here (tarfs/byte-names.ts), turned back into its bytes by `fsPath` at every
 * call on the disk.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../content/index.js';
import { errnoCode } from '../content/index.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, makedev, native } from '../native/index.js';
import { fsPath, readdirNames, readlinkName, type TarHeader, type TarReadHeader } from '../tarfs/index.js';
import { writeDirAtomically } from './dir-output.js';
import { ExporterError } from './errors.js';
import { ancestorsOf, classifyLayerPath, normalizeEntryPath, readLayerTar, writeTarFile } from './tar.js';

/** Opens a layer's uncompressed tar by diff id (e.g. from a snapshot, or a blob through gunzip). */
export type OpenLayerTar = (diffId: Digest) => Readable | Promise<Readable>;

export interface RootfsDirOptions {
  /** Apply entries' uid/gid (default: when running as root; otherwise files belong to us). */
  readonly preserveOwnership?: boolean;
  /**
   * Sets an extended attribute (the path byte-escaped where not UTF-8, as byte-names.ts has
   * it); without it a layer with xattrs fails (Node has no setxattr).
   */
  readonly setXattr?: (path: string, name: string, value: Buffer) => Promise<void>;
}

// ───────────────────────────── directory ─────────────────────────────

export async function writeRootfsDir(
  dest: string,
  layers: readonly Digest[],
  openLayerTar: OpenLayerTar,
  options: RootfsDirOptions = {},
): Promise<void> {
  const owned = options.preserveOwnership ?? process.getuid?.() === 0;
  await writeDirAtomically(dest, async (root) => {
    for (const diffId of layers) await applyLayer(root, await openLayerTar(diffId), { ...options, preserveOwnership: owned });
  });
}

interface DirTimes {
  readonly path: string;
  readonly mtime: number;
}

async function applyLayer(root: string, tar: Readable, options: RootfsDirOptions): Promise<void> {
  const touched = new Set<string>(); // paths this layer wrote, which its own opaque markers keep
  const opaque: string[] = [];
  const dirTimes: DirTimes[] = [];
  for await (const { header, body } of readLayerTar(tar)) {
    const rel = normalizeEntryPath(header.name);
    const what = classifyLayerPath(rel);
    if (what.kind !== 'entry') {
      if (what.kind === 'whiteout') {
        const victim = await resolveInRoot(root, what.path, false, false);
        if (victim !== undefined) await rm(fsPath(victim), { recursive: true, force: true });
      }
      if (what.kind === 'opaque') opaque.push(what.dir);
      continue;
    }
    touched.add(rel);
    const target = rel === '' ? root : await resolveInRoot(root, rel, false);
    await writeEntry(root, target, header, body, options);
    if (header.type === 'dir') dirTimes.push({ path: target, mtime: header.mtime });
  }
  for (const dir of opaque) await clearLower(root, dir, touched);
  // Children changed directory mtimes after the fact; restore them, deepest first.
  for (const d of dirTimes.reverse()) {
    await utimes(fsPath(d.path), d.mtime, d.mtime).catch((e: unknown) => {
      if (errnoCode(e) !== 'ENOENT') throw e; // removed later in the same layer
    });
  }
}

async function writeEntry(root: string, target: string, h: TarReadHeader, body: AsyncIterable<Buffer>, options: RootfsDirOptions): Promise<void> {
  const at = fsPath(target);
  const existing = await lstatOrUndefined(target);
  if (h.type === 'dir') {
    if (existing && !existing.isDirectory()) await rm(at, { recursive: true, force: true });
    if (!existing || !existing.isDirectory()) await mkdir(at);
  } else if (existing && target !== root) {
    await rm(at, { recursive: true, force: true });
  }
  switch (h.type) {
    case 'dir':
      break;
    case 'file':
      await pipeline(body, createWriteStream(at, { flags: 'wx', mode: 0o600 }));
      break;
    case 'symlink':
      await symlink(fsPath(h.linkname), at);
      break;
    case 'link': {
      const source = await resolveInRoot(root, normalizeEntryPath(h.linkname), false);
      await link(fsPath(source), at);
      return; // a hard link shares its target's inode and metadata
    }
    case 'char':
    case 'block':
    case 'fifo':
      mknod(target, h);
      break;
  }
  if (options.preserveOwnership) await lchown(at, h.uid, h.gid);
  // After chown, which clears set-id bits; symlinks have no mode of their own on Linux.
  if (h.type !== 'symlink') await chmod(at, h.mode);
  for (const [name, value] of h.xattrs) {
    if (!options.setXattr) {
      throw new ExporterError('NOT_SUPPORTED', `layer entry ${h.name} carries xattr ${name}, which cannot be written without native support`);
    }
    await options.setXattr(target, name, value);
  }
  await lutimes(at, h.mtime, h.mtime);
}

/** Removes what lower layers left in `dir`, keeping what this layer wrote there. */
async function clearLower(root: string, dir: string, touched: ReadonlySet<string>): Promise<void> {
  const abs = dir === '' ? root : await resolveInRoot(root, dir, true);
  for (const name of readdirNames(abs)) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    const path = join(abs, name);
    if (touched.has(rel)) {
      if ((await lstat(fsPath(path))).isDirectory()) await clearLower(root, rel, touched);
      continue;
    }
    await rm(fsPath(path), { recursive: true, force: true });
  }
}

/**
 * The host path of `rel` inside `root`, following symlinks in its parents as if `root` were
 * `/` (and the last component too when `followLast`), so no entry can reach outside the root.
 * Missing parents are created as directories, or with `createParents` false, the answer is
 * undefined (there is nothing at that path).
 */
async function resolveInRoot(root: string, rel: string, followLast: boolean): Promise<string>;
async function resolveInRoot(root: string, rel: string, followLast: boolean, createParents: false): Promise<string | undefined>;
async function resolveInRoot(root: string, rel: string, followLast: boolean, createParents = true): Promise<string | undefined> {
  const pending = rel.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const here = join(root, ...resolved, part);
    const isLast = pending.length === 0;
    const st = await lstatOrUndefined(here);
    if (st?.isSymbolicLink() && (!isLast || followLast)) {
      if (++links > 40) throw new ExporterError('UNSAFE_LAYER', `too many symlinks resolving ${rel}`);
      const to = readlinkName(here);
      if (to.startsWith('/')) resolved.length = 0;
      pending.unshift(...to.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    if (!isLast) {
      if (!createParents && (!st || !st.isDirectory())) return undefined;
      if (!st) await mkdir(fsPath(here), { mode: 0o755 });
      else if (!st.isDirectory()) {
        await rm(fsPath(here), { force: true });
        await mkdir(fsPath(here), { mode: 0o755 });
      }
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** A FIFO or device node, by the addon's mknod(2) (Node has none); mode, owner and times follow. */
function mknod(target: string, h: TarReadHeader): void {
  const type = h.type === 'fifo' ? S_IFIFO : h.type === 'block' ? S_IFBLK : S_IFCHR;
  try {
    native().mknod(fsPath(target), type | 0o600, h.type === 'fifo' ? 0 : makedev(h.devmajor, h.devminor));
  } catch (e) {
    throw new ExporterError('NOT_SUPPORTED', `cannot create device ${h.name} (${(e as Error).message}; devices need root)`, { cause: e });
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(fsPath(path));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

// ───────────────────────────── flattened tar ─────────────────────────────

/** What later layers did to a path, seen while walking the layers newest first. */
interface LaterState {
  /** The newest later entry at this exact path is a directory (else a file or deletion). */
  dir: boolean;
  /** A later layer deleted it or put a non-directory there: earlier entries at or below it are gone. */
  deleted: boolean;
  /** A later layer marked it opaque: earlier entries below it are gone. */
  opaque: boolean;
}

/**
 * Two passes over the layers: newest first, reading headers only, to decide which entries
 * survive; then oldest first, copying survivors into one tar. A directory is written once, at
 * its first surviving place, with the newest layer's header. Memory grows with the number of
 * paths, never with their bytes.
 */
export async function writeRootfsTar(dest: string, layers: readonly Digest[], openLayerTar: OpenLayerTar): Promise<void> {
  const later = new Map<string, LaterState>();
  const hidden: Set<number>[] = layers.map(() => new Set<number>());
  const newestDirHeader = new Map<string, TarReadHeader>();

  for (let i = layers.length - 1; i >= 0; i--) {
    const layerEffects: { path: string; kind: 'dir' | 'nondir' | 'whiteout' | 'opaque' }[] = [];
    let ordinal = -1;
    for await (const { header } of readLayerTar(await openLayerTar(layers[i]!))) {
      ordinal++;
      const rel = normalizeEntryPath(header.name);
      const what = classifyLayerPath(rel);
      if (what.kind === 'whiteout') layerEffects.push({ path: what.path, kind: 'whiteout' });
      if (what.kind === 'opaque') layerEffects.push({ path: what.dir, kind: 'opaque' });
      if (what.kind !== 'entry' || rel === '') {
        hidden[i]!.add(ordinal);
        continue;
      }
      const isDir = header.type === 'dir';
      layerEffects.push({ path: rel, kind: isDir ? 'dir' : 'nondir' });
      if (!survives(later, rel, isDir)) {
        hidden[i]!.add(ordinal);
        continue;
      }
      if (isDir && !newestDirHeader.has(rel)) newestDirHeader.set(rel, header);
      if (header.type === 'link') {
        // Flattening keeps a hard link only if its target is the final file at that path.
        const to = normalizeEntryPath(header.linkname);
        if (later.has(to) || ancestorsOf(to).some((a) => later.get(a)?.deleted || later.get(a)?.opaque)) {
          throw new ExporterError('NOT_SUPPORTED', `cannot flatten hard link ${rel} → ${to}: a later layer replaces its target`);
        }
      }
    }
    for (const e of layerEffects) {
      const s = later.get(e.path) ?? { dir: e.kind === 'dir' || e.kind === 'opaque', deleted: false, opaque: false };
      if (e.kind === 'nondir' || e.kind === 'whiteout') s.deleted = true;
      if (e.kind === 'opaque') s.opaque = true;
      if (!later.has(e.path)) later.set(e.path, s);
    }
  }

  const emittedDirs = new Set<string>();
  await writeTarFile(dest, async (w) => {
    for (let i = 0; i < layers.length; i++) {
      let ordinal = -1;
      for await (const { header, body } of readLayerTar(await openLayerTar(layers[i]!))) {
        ordinal++;
        if (hidden[i]!.has(ordinal)) continue; // the body, unread, is skipped
        const rel = normalizeEntryPath(header.name);
        if (header.type === 'dir') {
          if (emittedDirs.has(rel)) continue;
          emittedDirs.add(rel);
          await w.add(outputHeader(newestDirHeader.get(rel) ?? header, rel));
        } else if (header.type === 'file') {
          await w.addStream(outputHeader(header, rel), body);
        } else {
          await w.add(outputHeader(header, rel));
        }
      }
    }
  });
}

function survives(later: ReadonlyMap<string, LaterState>, rel: string, isDir: boolean): boolean {
  for (const a of ancestorsOf(rel)) {
    const s = later.get(a);
    if (s && (s.deleted || s.opaque)) return false;
  }
  const s = later.get(rel);
  if (!s) return true;
  if (s.deleted) return false;
  return isDir && s.dir; // a later directory replaces a file; two directories merge
}

/**
 * An entry of the flattened tar: its normalised path, ownership by number, xattrs; a hard
 * link's target normalised too. The encoder gives a directory its trailing '/'.
 */
function outputHeader(h: TarReadHeader, rel: string): TarHeader {
  return {
    name: rel,
    type: h.type,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'file' ? h.size : 0,
    mtime: h.mtime,
    ...(h.type === 'link' ? { linkname: normalizeEntryPath(h.linkname) } : {}),
    ...(h.type === 'symlink' ? { linkname: h.linkname } : {}),
    ...(h.type === 'char' || h.type === 'block' ? { devmajor: h.devmajor, devminor: h.devminor } : {}),
    ...(h.xattrs.size > 0 ? { xattrs: [...h.xattrs] } : {}),
  };
}
