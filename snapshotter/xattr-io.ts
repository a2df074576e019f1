/**
 * Extended attributes of files in snapshots and views, for file operations that copy them
 * (COPY --from keeps `security.capability` and the like, as BuildKit does). Only the
 * attributes a layer carries are listed (not overlayfs' own). Paths are strings as
 * tarfs/byte-names.ts has them.
 */
import { native } from '../native/index.js';
import { fsPath } from '../tarfs/index.js';
import { isLayerXattr } from './xattrs.js';

export interface FileXattrs {
  list(path: string): Promise<readonly string[]>;
  get(path: string, name: string): Promise<Uint8Array>;
  set(path: string, name: string, value: Uint8Array): Promise<void>;
}

export const fileXattrs: FileXattrs = {
  async list(path) {
    return native().llistxattr(fsPath(path)).filter(isLayerXattr);
  },
  async get(path, name) {
    return native().lgetxattr(fsPath(path), name) ?? new Uint8Array(0);
  },
  async set(path, name, value) {
    native().lsetxattr(fsPath(path), name, Buffer.from(value), 0);
  },
};
