/** Stages, ARG/ENV scope and expansion: from a parsed Dockerfile to a build plan. */
export { planBuild, type ConvertOptions, type NamedContextLookup } from './convert.js';
export { parsePlatform, formatPlatform, hostPlatform, type Platform } from './platform.js';
export type * from './types.js';
