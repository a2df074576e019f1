import type { SnapshotName } from '../../snapshotter/index.js';

/** What a vertex produces: a committed snapshot (its layer chain), or nothing (scratch). */
export interface Ref {
  readonly snapshot: SnapshotName | null;
}
