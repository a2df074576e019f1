/** Small helpers for the errors this folder throws, and BuildKit's "did you mean" search. */
import { BuildError, editDistance, type ErrorCode, type SourceRange } from '../../errors/index.js';
import { fromBinary, goQuote, toBinary } from '../parser/gostring.js';

export function fail(code: ErrorCode, message: string, range: SourceRange | undefined, hint?: string): never {
  throw new BuildError(code, message, range === undefined ? { hint } : { hint, range });
}

/**
 * The nearest candidate at an edit distance below 3, as BuildKit's suggestions pick them
 * (an exact match suggests nothing). Case-insensitive search returns the match in the case
 * style of the word typed (all lower, all upper, or as listed).
 */
export function suggestLikeBuildKit(
  word: string,
  candidates: Iterable<string>,
  caseSensitive: boolean,
): string | undefined {
  const w = caseSensitive ? word : word.toLowerCase();
  let match: string | undefined;
  let best = 3;
  for (const c of candidates) {
    const cand = caseSensitive ? c : c.toLowerCase();
    if (cand === w) return undefined;
    const d = editDistance(w, cand);
    if (d < best) {
      best = d;
      match = caseSensitive ? c : matchCase(cand, word);
    }
  }
  return match;
}

function matchCase(lower: string, typed: string): string {
  if (typed === typed.toLowerCase()) return lower;
  if (typed === typed.toUpperCase()) return lower.toUpperCase();
  return lower;
}

/** The hint text for a suggestion, or undefined. */
export function hintFor(word: string, candidates: Iterable<string>, caseSensitive: boolean): string | undefined {
  const s = suggestLikeBuildKit(word, candidates, caseSensitive);
  return s === undefined ? undefined : `did you mean "${s}"?`;
}

/** Go's %q of an ordinary string. */
export function goQuoted(s: string): string {
  return fromBinary(goQuote(toBinary(s)));
}
