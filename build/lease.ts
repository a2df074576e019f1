/** What a running build holds: while its lease lives, prune leaves the build cache alone. */
import { createLease, type Lease } from '../content/index.js';
import { ALL_SNAPSHOTS } from './prune.js';
import type { State } from './state.js';

export function leaseBuildCache(state: State): Promise<Lease> {
  return createLease(state.leasesDir, { snapshots: [ALL_SNAPSHOTS] });
}
