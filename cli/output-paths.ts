/**
 * Every path a build will write, checked before its first step: a build that cannot write
 * its result fails at once, with nothing run, stored or written, instead of after the steps.
 * The rules are buildx's: a directory output must not be a file, a file output must not be
 * a directory; missing parents of an output are made. `--iidfile` and `--metadata-file` are
 * written as buildx writes the metadata file (temp file and rename): their directory must
 * exist, and the path be absent or a regular file, never a symlink, directory, FIFO, socket
 * or device.
 */
import { accessSync, constants, lstatSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { usageError } from './args.js';
import type { Output } from './outputs.js';

export interface SideFiles {
  readonly iidfile?: string;
  readonly metadataFile?: string;
}

export function checkOutputPaths(outputs: readonly Output[], side: SideFiles): void {
  for (const o of outputs) {
    if (o.type === 'local' || (o.type === 'oci' && !o.tar)) checkDirOutput(o.dest);
    else if (o.type === 'tar' || o.type === 'oci' || o.type === 'docker') checkFileOutput(o.dest);
  }
  if (side.iidfile !== undefined) checkSideFile('--iidfile', side.iidfile);
  if (side.metadataFile !== undefined) checkSideFile('--metadata-file', side.metadataFile);
}

function stat(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw usageError(`invalid output path ${path}: a parent is not a directory`);
    throw usageError(`invalid output path ${path}: ${code ?? String(e)}`);
  }
}

function checkDirOutput(dest: string): void {
  const st = stat(dest, true);
  if (st !== undefined && !st.isDirectory()) throw usageError(`destination directory ${dest} is a file`);
  checkCreatable(dest);
}

function checkFileOutput(dest: string): void {
  const st = stat(dest, true);
  if (st?.isDirectory()) throw usageError(`destination file ${dest} is a directory`);
  // The file is written beside and renamed over dest: that would replace a device or FIFO.
  if (st !== undefined && !st.isFile()) throw usageError(`destination file ${dest} is not a regular file`, 'writing an output into a device or pipe is not supported yet');
  checkCreatable(dest);
}

/**
 * The output's directory, or its nearest existing ancestor (missing ones are made), must be a
 * directory this process may write: the output is made there and renamed into place.
 */
function checkCreatable(dest: string): void {
  let dir = dirname(resolve(dest));
  for (;;) {
    const st = stat(dir, true);
    if (st !== undefined) {
      if (!st.isDirectory()) throw usageError(`invalid output path ${dest}: ${dir} is not a directory`);
      writable(`invalid output path ${dest}`, dir);
      return;
    }
    if (dirname(dir) === dir) return;
    dir = dirname(dir);
  }
}

/** `prefix: DIR is not writable` unless this process may make files in `dir`. */
function writable(prefix: string, dir: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'EACCES' ? 'is not writable' : (code ?? String(e));
    throw usageError(`${prefix}: ${dir} ${why}`);
  }
}

const KIND: readonly [(s: Stats) => boolean, string][] = [
  [(s) => s.isDirectory(), 'a directory'],
  [(s) => s.isSymbolicLink(), 'a symbolic link directly'],
  [(s) => s.isFIFO(), 'a named pipe (FIFO)'],
  [(s) => s.isSocket(), 'a socket'],
  [(s) => s.isCharacterDevice(), 'a character device file'],
  [(s) => s.isBlockDevice(), 'a block device file'],
];

function checkSideFile(flag: string, path: string): void {
  const dir = dirname(resolve(path));
  const d = stat(dir, true);
  if (d === undefined) throw usageError(`${flag} ${path}: invalid output path: the directory ${dir} does not exist`);
  if (!d.isDirectory()) throw usageError(`${flag} ${path}: invalid output path: ${dir} is not a directory`);
  const st = stat(path, false);
  if (st !== undefined && !st.isFile()) {
    const kind = KIND.find(([is]) => is(st))?.[1] ?? 'a file that is not regular';
    throw usageError(`${flag} ${path}: cannot write to ${kind}`);
  }
  writable(`${flag} ${path}: invalid output path`, dir);
}
