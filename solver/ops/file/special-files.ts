/**
 * FIFOs and device nodes. Node has no mknod, so Debian's mknod(1) makes them; the caller sets
 * owner, mode and times afterwards.
 */
import { constants, type BigIntStats } from 'node:fs';
import { BuildError } from '../../../errors/index.js';

export type NodeKind = 'fifo' | 'char' | 'block';

export async function makeNode(target: string, kind: NodeKind, major = 0, minor = 0): Promise<void> {
  const args = kind === 'fifo' ? [target, 'p'] : [target, kind === 'char' ? 'c' : 'b', String(major), String(minor)];
  await new Promise<void>((resolve, reject) => {
    // node:child_process only when a device node is made: loading it costs every start ~3 ms.
    const child = process.getBuiltinModule('node:child_process').spawn('mknod', ['-m', '0600', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const fail = (why: string, cause?: unknown): void =>
      reject(new BuildError('COPY_FAILED', `cannot create special file ${target}: ${why}`, {}, cause === undefined ? undefined : { cause }));
    child.on('error', (e) => fail(e.message, e));
    child.on('close', (code) => (code === 0 ? resolve() : fail(stderr.trim() || `mknod exited with ${code}`)));
  });
}

/** A node of the same kind and device numbers as the source `fi`. */
export async function makeNodeLike(target: string, fi: BigIntStats): Promise<void> {
  const type = Number(fi.mode) & constants.S_IFMT;
  const rdev = Number(fi.rdev);
  // glibc's major()/minor() encoding of dev_t.
  const major = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  if (type === constants.S_IFIFO) return makeNode(target, 'fifo');
  if (type === constants.S_IFCHR) return makeNode(target, 'char', major, minor);
  if (type === constants.S_IFBLK) return makeNode(target, 'block', major, minor);
  throw new BuildError('COPY_FAILED', `cannot copy ${target}: unknown file type 0${type.toString(8)}`);
}
