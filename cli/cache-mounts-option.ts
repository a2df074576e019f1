/**
 * `mounts=` of a `--cache-to`: which `RUN --mount=type=cache` contents the cache takes too.
 * `true` every cache mount of the build, `false` (or no key) none, else a list of ids
 * separated by `;` — not `,`, which buildx's CSV reads as the end of the field unless the
 * whole field is quoted (`"mounts=a,b"`), which shells make awkward.
 */
import type { CacheExport } from '../build/index.js';
import { usageError } from './args.js';

/** The separator of a `mounts=` list of ids. */
export const MOUNT_ID_SEPARATOR = ';';

/** `mounts=` read from a `--cache-to`'s fields; undefined when it asks for none. */
export function cacheMountsOption(kv: ReadonlyMap<string, string>): true | string[] | undefined {
  const v = kv.get('mounts');
  if (v === undefined || v === 'false') return undefined;
  if (v === 'true') return true;
  const ids = v.split(MOUNT_ID_SEPARATOR);
  if (ids.some((id) => id === '')) {
    throw usageError(`--cache-to: mounts=${v} names an empty cache mount id`, `write mounts=true, or ids separated by "${MOUNT_ID_SEPARATOR}": mounts=ID1${MOUNT_ID_SEPARATOR}ID2`);
  }
  return ids;
}

/** `spec` with its `mounts=`, if any. */
export function withCacheMounts(spec: CacheExport, kv: ReadonlyMap<string, string>): CacheExport {
  const mounts = cacheMountsOption(kv);
  return mounts === undefined ? spec : { ...spec, mounts };
}
