/** The Dockerfile language: parsing, expansion, instructions, stages, .dockerignore. */
export { parseDockerfile, type ParseResult, type ParseOptions } from './parser/parse.js';
export type * from './parser/ast.js';
export { planBuild, parsePlatform, formatPlatform, hostPlatform, type ConvertOptions, type NamedContextLookup, type Platform } from './stages/index.js';
export type * from './stages/types.js';
export { csvFields, CsvError } from './instructions/csv.js';
export { compileMatcher, readIgnorePatterns, filterPaths, Matcher, type DirState, type DirVerdict } from './dockerignore/index.js';
export { buildGraph, fillHistoryTimes, type BuildGraph, type GraphOptions, type NamedContextKind, type StageGraph } from './graph/index.js';
export { ramInBytes } from './instructions/units.js';
