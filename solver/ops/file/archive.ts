/**
 * ADD's local archives. A source is an archive when, after decompression chosen by its first
 * bytes (never its name), it starts with a valid tar header: Docker's rule. gzip is decoded
 * with node:zlib; bzip2, xz and zstd (which Docker also reads) by Debian's `bzip2`, `xz` and
 * `zstd` programs, spawned, since Node 20 has no decoder for them.
 *
 * Extraction happens as if chrooted into the destination directory, as BuildKit does: a
 * name's `..` and leading `/` stop at the destination, symlinks met on the way are resolved
 * inside it, links are created as written, hard links only to entries inside it.
 */
import { constants } from 'node:fs';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { programStream } from '../../../content/index.js';
import { BuildError } from '../../../errors/index.js';
import { fsPath, isTarError, readTar } from '../../../tarfs/index.js';
import { mkdirAllInRoot } from './mkdir.js';
import { cleanComponents, hostPath, lstatOrUndefined, resolveInRoot } from './root-path.js';
import { makeNode } from './special-files.js';
import type { Owner } from './users.js';
import type { XattrIO } from './copier.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const MAGIC: readonly [Compression, readonly number[]][] = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

const PROGRAMS: Readonly<Record<'bzip2' | 'xz' | 'zstd', { cmd: string; pkg: string }>> = {
  bzip2: { cmd: 'bzip2', pkg: 'bzip2' },
  xz: { cmd: 'xz', pkg: 'xz-utils' },
  zstd: { cmd: 'zstd', pkg: 'zstd' },
};

export function compressionOf(head: Uint8Array): Compression {
  for (const [kind, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  }
  return 'none';
}

/** A decompressed stream of the file; a decoder's failure surfaces on `stream`. */
interface Decoded {
  readonly stream: Readable;
  /** Settles (never rejects) once the file has been fed to the decoder. */
  readonly done: Promise<void>;
  stop(): void;
}

async function decode(path: string, compression: Compression): Promise<Decoded> {
  const file = await open(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW);
  const input = file.createReadStream();
  if (compression === 'none') return { stream: input, done: Promise.resolve(), stop: () => input.destroy() };
  let decoder: Duplex;
  if (compression === 'gzip') {
    decoder = process.getBuiltinModule('node:zlib').createGunzip(); // loaded here, not at every start
  } else {
    const { cmd, pkg } = PROGRAMS[compression];
    try {
      decoder = programStream(cmd, ['-dc'], {
        missing: () =>
          new BuildError('NOT_SUPPORTED', `not supported yet: ${compression} archives without the ${cmd} program`, {
            hint: `Install Debian's ${pkg} package: tsbuild spawns ${cmd} to decompress ${compression}.`,
          }),
        failed: (status, stderr) => new Error(`${cmd} -dc ${status}: ${stderr.trim()}`),
      });
    } catch (e) {
      input.destroy();
      throw e;
    }
  }
  const done = pipeline(input, decoder).catch(() => undefined); // errors surface on the read side
  return { stream: decoder, done, stop: () => decoder.destroy() };
}

/** Is this a tar header block with a correct checksum (what Go's tar reader needs to start)? */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512 || block.every((b) => b === 0)) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const expected = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return expected === unsigned || expected === signed;
}

/** The compression of `path` if it is a (possibly compressed) tar archive; undefined when it is not. */
export async function detectArchive(path: string): Promise<Compression | undefined> {
  const st = await lstatOrUndefined(path);
  if (st === undefined || !st.isFile()) return undefined;
  const handle = await open(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW);
  let head: Buffer;
  try {
    head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const compression = compressionOf(head);
  const decoded = await decode(path, compression);
  // A missing decoder is loud (decode throws); a corrupt stream is "not an archive".
  const block = await readUpTo(decoded.stream, 512).catch(() => undefined);
  decoded.stop();
  await decoded.done;
  return block !== undefined && isTarHeader(block) ? compression : undefined;
}

async function readUpTo(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

export interface ExtractOptions {
  /** --chown, resolved: every entry's owner; else the owners written in the archive. */
  readonly owner?: Owner;
  readonly xattrs?: XattrIO;
  readonly signal?: AbortSignal;
}

/**
 * Extract the archive at `archivePath` into directory `destDir` (which must exist; a host
 * path). Nothing is written outside `destDir`. The archive is read with the layer tar reader
 * (snapshotter's readTar: V7, ustar, PAX and GNU long names, as Go's reader takes them), so
 * names, link targets and xattr values keep their exact bytes.
 */
export async function extractArchive(archivePath: string, compression: Compression, destDir: string, opts: ExtractOptions): Promise<void> {
  const decoded = await decode(archivePath, compression);
  const dirTimes: { path: string; mtime: number }[] = [];
  try {
    for await (const { header, body } of readTar(decoded.stream)) {
      opts.signal?.throwIfAborted();
      const parts = cleanComponents(header.name);
      if (parts.length === 0) continue; // the body, unread, is skipped
      const name = parts.pop()!;
      // Parents: resolved inside destDir (symlinks followed there), made 0755 root-owned when missing.
      const parentRel = await mkdirAllInRoot(destDir, parts.join('/'), { mode: 0o755 });
      const rel = parentRel === '' ? name : `${parentRel}/${name}`;
      const dst = hostPath(destDir, rel);
      const at = fsPath(dst);
      const existing = await lstatOrUndefined(dst);
      if (existing !== undefined && !(existing.isDirectory() && header.type === 'dir')) {
        await rm(at, { recursive: true, force: true });
      }
      const mode = header.mode & 0o7777;
      let setMode = true;
      switch (header.type) {
        case 'dir':
          if (existing === undefined || !existing.isDirectory()) await mkdir(at, { mode });
          break;
        case 'file': {
          const out = await open(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
          await pipeline(Readable.from(body), out.createWriteStream()); // the stream closes the handle
          break;
        }
        case 'symlink':
          await symlink(fsPath(header.linkname), at);
          setMode = false;
          break;
        case 'link': {
          const targetParts = cleanComponents(header.linkname);
          const targetName = targetParts.pop();
          const targetParent = await resolveInRoot(destDir, targetParts.join('/'), { followFinal: true });
          const targetRel = targetName === undefined ? '' : targetParent === '' ? targetName : `${targetParent}/${targetName}`;
          const target = await lstatOrUndefined(hostPath(destDir, targetRel));
          if (target === undefined || targetRel === '') {
            throw new BuildError('COPY_FAILED', `invalid hardlink ${JSON.stringify(header.name)} -> ${JSON.stringify(header.linkname)}: target not extracted`);
          }
          await link(fsPath(hostPath(destDir, targetRel)), at);
          setMode = !target.isSymbolicLink();
          break;
        }
        case 'char':
        case 'block':
        case 'fifo':
          await makeNode(dst, header.type, header.devmajor, header.devminor);
          break;
      }
      const owner = opts.owner ?? { uid: header.uid, gid: header.gid };
      await lchown(at, owner.uid, owner.gid);
      if (opts.xattrs !== undefined) for (const [key, value] of header.xattrs) await opts.xattrs.set(dst, key, value);
      if (setMode) await chmod(at, mode);
      if (header.type === 'dir') dirTimes.push({ path: dst, mtime: header.mtime });
      else if (header.type !== 'link') await lutimes(at, header.mtime, header.mtime);
    }
    await decoded.done;
  } catch (e) {
    decoded.stop();
    await decoded.done;
    if (e instanceof BuildError && !isTarError(e)) throw e;
    throw new BuildError('COPY_FAILED', `failed to extract ${archivePath}: ${(e as Error).message}`, {}, { cause: e });
  }
  // Directory times last: creating entries inside them changed them.
  for (const { path, mtime } of dirTimes) await lutimes(fsPath(path), mtime, mtime);
}
