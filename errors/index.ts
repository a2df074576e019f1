/**
 * The error type every tsbuild layer throws. A stable `code` for machines, a message for
 * people, an optional hint, and — for anything that comes from a Dockerfile — the source range.
 * Only cli/ prints errors; library code throws these and never writes to a stream.
 */

/** 1-based line and column; columns count UTF-16 code units of the line as written. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

/** A span in a source file; `end` is exclusive on the same line or inclusive of the last line. */
export interface SourceRange {
  readonly file: string;
  readonly start: Pos;
  readonly end: Pos;
}

/** Every code a user can meet. Listed in the README; never reuse one for another meaning. */
export type ErrorCode =
  | 'USAGE'
  | 'DOCKERFILE_SYNTAX'
  | 'DOCKERFILE_EMPTY'
  | 'UNKNOWN_INSTRUCTION'
  | 'BAD_JSON'
  | 'MISSING_ARGUMENT'
  | 'BAD_FLAG'
  | 'BAD_DIRECTIVE'
  | 'CHECK_FAILED'
  | 'BAD_VARIABLE'
  | 'REQUIRED_VARIABLE'
  | 'UNKNOWN_STAGE'
  | 'BAD_STAGE'
  | 'BAD_INSTRUCTION'
  | 'BAD_IGNORE_FILE'
  | 'BAD_PLATFORM'
  | 'PLATFORM_MISMATCH'
  | 'BAD_REFERENCE'
  | 'REGISTRY'
  | 'NOT_SUPPORTED'
  | 'COPY_FAILED'
  | 'MOUNT_FAILED'
  | 'USER_NOT_FOUND'
  | 'RUNNER_ERROR'
  | 'RUN_FAILED'
  | 'SECRET_NOT_FOUND'
  | 'SSH_NOT_FOUND'
  | 'ENTITLEMENT_NOT_ALLOWED'
  | 'NETWORK_FAILED'
  | 'INTERRUPTED'
  | 'CACHE_IMPORT'
  | 'CACHE_EXPORT'
  | 'IO';

export interface ErrorExtra {
  readonly hint?: string;
  readonly range?: SourceRange;
}

export class BuildError extends Error {
  override readonly name = 'BuildError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly range: SourceRange | undefined;

  constructor(code: ErrorCode, message: string, extra: ErrorExtra = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.hint = extra.hint;
    this.range = extra.range;
  }

  /** The same error pointing somewhere (else); used by layers that learn the range later. */
  at(range: SourceRange): BuildError {
    return new BuildError(this.code, this.message, { hint: this.hint, range }, { cause: this.cause });
  }
}

export function isBuildError(e: unknown): e is BuildError {
  return e instanceof BuildError;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a small distance, compared case-insensitively, or undefined. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // A suggestion must be closer than a rewrite of half the word.
  return best !== undefined && bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(w.length / 2))
    ? best
    : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const s = suggest(word, candidates);
  return s === undefined ? undefined : `did you mean "${s}"?`;
}
