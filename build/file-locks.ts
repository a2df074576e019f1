/** The locks ops take (cache mounts, context copies), on the builder's flock mutex. */
import { holdLock, tryLock, withLock } from '../content/index.js';
import type { FileLocks } from '../solver/ops/index.js';

export const fileLocks: FileLocks = {
  hold: (path, options) => holdLock(path, options),
  tryHold: (path) => tryLock(path),
  withLock: (path, fn) => withLock(path, fn),
};
