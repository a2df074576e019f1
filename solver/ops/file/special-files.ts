/**
 * FIFOs and device nodes, made with the addon's mknod (Node has none); the caller sets owner,
 * mode and times afterwards. Paths are strings as tarfs/byte-names.ts has them.
 */
import { constants, type BigIntStats } from 'node:fs';
import { BuildError } from '../../../errors/index.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, makedev, native } from '../../../native/index.js';
import { fsPath } from '../../../tarfs/index.js';

export type NodeKind = 'fifo' | 'char' | 'block';

const TYPES: Readonly<Record<NodeKind, number>> = { fifo: S_IFIFO, char: S_IFCHR, block: S_IFBLK };

export async function makeNode(target: string, kind: NodeKind, major = 0, minor = 0): Promise<void> {
  mknod(target, TYPES[kind], kind === 'fifo' ? 0 : makedev(major, minor));
}

/** A node of the same kind and device numbers as the source `fi`. */
export async function makeNodeLike(target: string, fi: BigIntStats): Promise<void> {
  const type = Number(fi.mode) & constants.S_IFMT;
  if (type !== S_IFIFO && type !== S_IFCHR && type !== S_IFBLK) {
    throw new BuildError('COPY_FAILED', `cannot copy ${target}: unknown file type 0${type.toString(8)}`);
  }
  mknod(target, type, type === S_IFIFO ? 0 : Number(fi.rdev));
}

/** Mode 0600: the caller sets the real one (after chown, which would clear set-id bits). */
function mknod(target: string, type: number, dev: number): void {
  try {
    native().mknod(fsPath(target), type | 0o600, dev);
  } catch (e) {
    throw new BuildError('COPY_FAILED', `cannot create special file ${target}: ${(e as Error).message}`, {}, { cause: e });
  }
}
