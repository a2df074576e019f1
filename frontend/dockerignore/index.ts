/**
 * .dockerignore: finding and reading the file beside the Dockerfile or in the context; its
 * patterns are matched by patternmatcher/, re-exported here for the frontend's users.
 *
 *   const patterns = await readIgnorePatterns(dockerfilePath, contextDir);
 *   const matcher = compileMatcher(patterns);
 */
export { parseIgnoreFile, compileMatcher, filterPaths, Matcher, type IgnorePattern, type DirState, type DirVerdict } from '../../patternmatcher/index.js';
export { findIgnoreFile, readIgnorePatterns, type IgnoreFile } from './find.js';
