/**
 * `COPY --exclude` and `--parents` include patterns: BuildKit hands both to
 * moby/patternmatcher, the matcher .dockerignore uses, applied to paths relative to each
 * copied source. The .dockerignore Matcher reproduces it, so it serves here too.
 */
import { BuildError, isBuildError } from '../../../errors/index.js';
import { compileMatcher, parseIgnoreFile, type Matcher } from '../../../patternmatcher/index.js';

/** A matcher for these patterns, or undefined when there are none. Throws BAD_FLAG on a bad one. */
export function compilePatterns(patterns: readonly string[], flag: string): Matcher | undefined {
  if (patterns.length === 0) return undefined;
  const parsed = [];
  for (const p of patterns) {
    try {
      // One pattern at a time, so that no pattern is taken for a comment or split on a newline.
      const [one] = parseIgnoreFile(p.startsWith('#') ? `\\${p}` : p.replace(/\n/g, ''), flag);
      if (one !== undefined) parsed.push(one);
    } catch (e) {
      if (!isBuildError(e)) throw e;
      throw new BuildError('BAD_FLAG', `invalid ${flag} pattern ${JSON.stringify(p)}: ${e.message}`, { hint: e.hint }, { cause: e });
    }
  }
  return parsed.length === 0 ? undefined : compileMatcher(parsed);
}
