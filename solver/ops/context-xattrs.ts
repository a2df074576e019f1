/**
 * Extended attributes of build-context files, as they reach BuildKit's COPY: its context
 * transfer sends every attribute, the receiving side sets them and then chowns the file to
 * 0:0, and the kernel drops `security.capability` on chown. So `user.*` (and `trusted.*`)
 * attributes are kept, file capabilities are not.
 */
import { fileXattrs } from '../../snapshotter/index.js';

export const contextXattrs = {
  list: async (path: string): Promise<readonly string[]> => (await fileXattrs.list(path)).filter((n) => n !== 'security.capability'),
  get: (path: string, name: string) => fileXattrs.get(path, name),
  set: (path: string, name: string, value: Uint8Array) => fileXattrs.set(path, name, value),
};
