/** Overlay whiteouts made by hand: what hides a lower dir's entry in an overlay mounted above it. */
import { S_IFCHR, makedev, native } from '../native/index.js';
import { fsPath } from './byte-names.js';

/**
 * Makes `path` an overlay whiteout (a character device 0:0): in a lower dir of an overlay, it
 * hides the entry of that name in every lower dir below. Needs CAP_MKNOD.
 */
export function makeWhiteout(path: string): void {
  native().mknod(fsPath(path), S_IFCHR, makedev(0, 0));
}
