/**
 * Path patterns as moby/patternmatcher matches them: `.dockerignore` lines (read by the
 * frontend) and `COPY --exclude` / `--parents` patterns (applied by the file ops), compiled
 * once into a Matcher that answers for a path, or for a walker directory by directory.
 *
 *   const matcher = compileMatcher(parseIgnoreFile('node_modules\n!node_modules/keep', '.dockerignore'));
 *   matcher.matches('node_modules/x/index.js');      // true: left out
 *   const dir = matcher.enterDir('src', undefined);  // for a walker: dir.verdict, then
 *   matcher.matchesIn('src/main.ts', dir);           // children with their parent's state
 *
 * Go's string rules that shape a pattern (strings.TrimSpace, filepath.Clean, unicode.IsSpace)
 * are here too, as the Dockerfile parser needs the same ones.
 */
export { parseIgnoreFile, type IgnorePattern } from './parse.js';
export { compileMatcher, Matcher, type DirState, type DirVerdict } from './matcher.js';
export { filterPaths } from './filter.js';
export { goClean, goTrimEndIndex, goTrimSpace, goTrimStartIndex, isGoSpace } from './go-text.js';
