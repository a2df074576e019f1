/**
 * Filtering a flat list of context paths as Docker's walker would: each path is judged with its
 * parents' results, and an excluded directory stays when something below it is kept.
 */

import type { DirState, Matcher } from './matcher.js';

interface DirEntry {
  readonly state: DirState;
  readonly parent: DirEntry | undefined;
  /** This directory or one above it is excluded, so a kept path below must bring it back. */
  readonly excludedAtOrAbove: boolean;
}

/**
 * The paths of `paths` that belong in the context, in input order. A path is a directory here
 * when another listed path lies below it; directories need not be listed.
 */
export function filterPaths(matcher: Matcher, paths: readonly string[]): string[] {
  const dirs = new Map<string, DirEntry>();
  const entryOf = (dir: string): DirEntry => {
    let entry = dirs.get(dir);
    if (entry === undefined) {
      const slash = dir.lastIndexOf('/');
      const parent = slash < 0 ? undefined : entryOf(dir.slice(0, slash));
      const state = matcher.enterDir(dir, parent?.state);
      entry = { state, parent, excludedAtOrAbove: state.excluded || (parent?.excludedAtOrAbove ?? false) };
      dirs.set(dir, entry);
    }
    return entry;
  };

  const kept = new Uint8Array(paths.length);
  const dirsWithKeptBelow = new Set<string>();
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? undefined : entryOf(path.slice(0, slash));
    if (matcher.matchesIn(path, parent?.state)) continue;
    kept[i] = 1;
    // A path kept below excluded directories brings those directories back.
    for (let dir = parent; dir?.excludedAtOrAbove && !dirsWithKeptBelow.has(dir.state.path); dir = dir.parent) {
      if (dir.state.excluded) dirsWithKeptBelow.add(dir.state.path);
    }
  }

  const result: string[] = [];
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    if (kept[i] === 1 || dirsWithKeptBelow.has(path)) result.push(path);
  }
  return result;
}
