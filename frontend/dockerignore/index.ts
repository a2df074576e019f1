/**
 * .dockerignore: reading, and matching context paths exactly as Docker/BuildKit do.
 *
 *   const patterns = await readIgnorePatterns(dockerfilePath, contextDir);
 *   const matcher = compileMatcher(patterns);
 *   matcher.matches('node_modules/x/index.js');      // true: left out of the context
 *   const dir = matcher.enterDir('src', undefined);  // for a walker: dir.verdict, then
 *   matcher.matchesIn('src/main.ts', dir);           // children with their parent's state
 */

export { parseIgnoreFile, type IgnorePattern } from './parse.js';
export { compileMatcher, Matcher, type DirState, type DirVerdict } from './matcher.js';
export { filterPaths } from './filter.js';
export { findIgnoreFile, readIgnorePatterns, type IgnoreFile } from './find.js';
