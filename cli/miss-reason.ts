/** The words for why a step missed the cache (a `miss` event's reasons), as progress shows them. */
import type { MissReason } from '../build/index.js';

const value = (v: string | undefined) => (v === undefined ? '(unset)' : JSON.stringify(v));
const change = (r: { readonly before?: string; readonly now?: string }) => `(${value(r.before)} → ${value(r.now)})`;

export function describeMissReason(r: MissReason): string {
  switch (r.kind) {
    case 'files': {
      const parts = [
        ...(r.changed.length === 0 ? [] : [`changed ${r.changed.join(', ')}`]),
        ...(r.added.length === 0 ? [] : [`added ${r.added.join(', ')}`]),
        ...(r.removed.length === 0 ? [] : [`removed ${r.removed.join(', ')}`]),
        ...(r.more === 0 ? [] : [`${r.more} more`]),
      ];
      return `files of the context changed: ${parts.join('; ')}`;
    }
    case 'many-files':
      return `files of the context changed (${r.now} files${r.before === r.now ? '' : `, ${r.before} before`}; too many to name them)`;
    case 'build-arg':
      return `build arg ${r.name} changed ${change(r)}`;
    case 'env':
      return `env ${r.name} changed ${change(r)}`;
    case 'base-image':
      return `base image ${r.ref} changed (${r.before ?? '(none)'} → ${r.now ?? '(none)'})`;
    case 'field':
      return `its ${r.name} changed ${change(r)}`;
    case 'input':
      return `its input step changed: ${r.step}`;
    case 'unavailable':
      return 'the result cached under the same key is no longer available';
  }
}
