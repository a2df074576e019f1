/**
 * What the ops need of a path matcher (the .dockerignore one, `COPY --exclude`): given as a
 * value by whoever compiles the patterns, so that the ops know no pattern syntax.
 */

/** A directory's match results, handed to its children (see PathMatcher.enterDir). */
export interface MatcherDir {
  /**
   * 'included': keep and walk it; 'excluded-but-walk': leave it out but walk it (an exception
   * may keep something below); 'excluded-subtree': nothing below can be kept.
   */
  readonly verdict: 'included' | 'excluded-but-walk' | 'excluded-subtree';
}

export interface PathMatcher {
  /** Whether some pattern is an exception (`!…`): an excluded directory may then keep something below. */
  readonly hasExceptions: boolean;
  /** Whether `path` (relative, slash-separated) is matched, its parents evaluated on the way. */
  matches(path: string): boolean;
  /** What a walker does with directory `path`, evaluated from the root. */
  dirVerdict(path: string): MatcherDir['verdict'];
  /** The results for directory `path`, whose parent's are `parent`. */
  enterDir(path: string, parent: MatcherDir | undefined): MatcherDir;
  /** Whether `path` is matched, given its parent directory's results. */
  matchesIn(path: string, parent: MatcherDir | undefined): boolean;
}
