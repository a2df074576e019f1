/**
 * The exclusion decision Docker's context walker makes (tonistiigi/fsutil over
 * moby/patternmatcher's MatchesUsingParentResults): patterns are tried in order and the last
 * one that matches wins; a pattern that matched a directory counts as matching everything below
 * it; a pattern is only tried when it could change the answer so far (an exclusion while the
 * path is included, an exception while it is excluded). The last rule is what makes `a/b`
 * then `!a` leave `a/b` excluded: `!a` is never tried on `a` while `a` is still included.
 */

import type { PathTest } from './compile-pattern.js';
import { compileIgnorePattern, type IgnorePattern } from './parse.js';

/**
 * What a walker does with a directory:
 * - 'included': keep it and walk it.
 * - 'excluded-but-walk': leave it out, but walk it, since an exception may re-include something
 *   below; if something below is kept, keep the directory too (as Docker does, so the kept path
 *   has its parents).
 * - 'excluded-subtree': leave it out and skip everything below; nothing there can be kept.
 */
export type DirVerdict = 'included' | 'excluded-but-walk' | 'excluded-subtree';

/** A directory's match results, handed to its children; from `Matcher.enterDir`. */
export interface DirState {
  readonly path: string;
  readonly excluded: boolean;
  readonly verdict: DirVerdict;
}

/** Internal form: which patterns matched the directory (1) or not (0), by index. */
class DirMatch implements DirState {
  constructor(
    readonly path: string,
    readonly excluded: boolean,
    readonly verdict: DirVerdict,
    readonly hits: Uint8Array,
  ) {}
}

/** Characters that make fsutil walk every excluded directory when an exception has one. */
const WILDCARD_CHARS = /[*[\]?^\\]/;

export class Matcher {
  readonly patterns: readonly IgnorePattern[];
  readonly hasExceptions: boolean;
  private readonly tests: readonly PathTest[];
  private readonly isException: readonly boolean[];
  /** `prefix/` of each exception when none has wildcards; undefined when one does. */
  private readonly exceptionDirPrefixes: readonly string[] | undefined;
  /** Reused by `matches` for ancestors' hits, so that it allocates no arrays. */
  private readonly scratchA: Uint8Array;
  private readonly scratchB: Uint8Array;

  constructor(patterns: readonly IgnorePattern[]) {
    this.patterns = patterns;
    this.tests = patterns.map((p) => compileIgnorePattern(p.pattern, p.range).test);
    this.isException = patterns.map((p) => p.exception);
    this.hasExceptions = this.isException.includes(true);
    const prefixes = patterns.filter((p) => p.exception).map((p) => withoutTrailingGlob(p.pattern));
    this.exceptionDirPrefixes = prefixes.some((p) => WILDCARD_CHARS.test(p))
      ? undefined
      : prefixes.map((p) => p + '/');
    this.scratchA = new Uint8Array(patterns.length);
    this.scratchB = new Uint8Array(patterns.length);
  }

  /**
   * Is this path left out of the context? `path` is relative to the context root,
   * slash-separated, clean, without leading or trailing slash. Its parent directories are
   * evaluated on the way, as a walker would.
   */
  matches(path: string): boolean {
    let parent: Uint8Array | undefined;
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const hits = parent === this.scratchA ? this.scratchB : this.scratchA;
      this.evaluate(path.slice(0, slash), parent, hits);
      parent = hits;
    }
    return this.evaluate(path, parent, undefined);
  }

  /** What a walker should do with this directory, evaluated from the root. */
  dirVerdict(path: string): DirVerdict {
    return this.verdictOf(path, this.matches(path));
  }

  /**
   * For a walker: the state of directory `path` whose parent's state is `parent` (undefined at
   * the context root). Cheaper than `dirVerdict`, which re-evaluates every ancestor.
   */
  enterDir(path: string, parent: DirState | undefined): DirState {
    const parentMatch = this.own(parent);
    if (parentMatch?.verdict === 'excluded-subtree') {
      return new DirMatch(path, true, 'excluded-subtree', parentMatch.hits);
    }
    const hits = new Uint8Array(this.tests.length);
    const excluded = this.evaluate(path, parentMatch?.hits, hits);
    return new DirMatch(path, excluded, this.verdictOf(path, excluded), hits);
  }

  /** For a walker: is the entry `path`, directly inside `parent`, left out? */
  matchesIn(path: string, parent: DirState | undefined): boolean {
    const parentMatch = this.own(parent);
    if (parentMatch?.verdict === 'excluded-subtree') return true;
    return this.evaluate(path, parentMatch?.hits, undefined);
  }

  private own(state: DirState | undefined): DirMatch | undefined {
    if (state === undefined) return undefined;
    if (!(state instanceof DirMatch) || state.hits.length !== this.tests.length) {
      throw new TypeError('DirState comes from another Matcher');
    }
    return state;
  }

  /** One path given its parent's hits; records this path's hits in `out` when given. */
  private evaluate(path: string, parentHits: Uint8Array | undefined, out: Uint8Array | undefined): boolean {
    const tests = this.tests;
    const isException = this.isException;
    let excluded = false;
    for (let i = 0; i < tests.length; i++) {
      let hit = parentHits !== undefined && parentHits[i] === 1;
      if (!hit) {
        // Skip a pattern that could not change the answer; it is then not a hit for children.
        if (isException[i] !== excluded) {
          if (out) out[i] = 0;
          continue;
        }
        hit = tests[i]!(path);
      }
      if (out) out[i] = hit ? 1 : 0;
      if (hit) excluded = !isException[i];
    }
    return excluded;
  }

  private verdictOf(dir: string, excluded: boolean): DirVerdict {
    if (!excluded) return 'included';
    if (!this.hasExceptions) return 'excluded-subtree';
    // An exception with wildcards might match anywhere: walk (fsutil's rule, kept for parity).
    if (this.exceptionDirPrefixes === undefined) return 'excluded-but-walk';
    const dirSlash = dir + '/';
    for (const prefix of this.exceptionDirPrefixes) {
      if (prefix.startsWith(dirSlash)) return 'excluded-but-walk';
    }
    return 'excluded-subtree';
  }
}

/** fsutil ignores a trailing `/**` and then a trailing `/*` when deciding what lies below. */
function withoutTrailingGlob(pattern: string): string {
  let p = pattern.endsWith('/**') ? pattern.slice(0, -3) : pattern;
  if (p.endsWith('/*')) p = p.slice(0, -2);
  return p;
}

/** Compile parsed patterns once; the result answers many paths. Throws BAD_IGNORE_FILE. */
export function compileMatcher(patterns: readonly IgnorePattern[]): Matcher {
  return new Matcher(patterns);
}
