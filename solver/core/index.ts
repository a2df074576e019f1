/** The solver core: graph, digests, cache keys, scheduling. Imports no other layer. */
export { canonicalJSON, digestOf, isDigest, sha256, type Digest } from './digest.js';
export { vertex } from './graph.js';
export { Solver, VertexError, type SolverOptions } from './solver.js';
export type * from './types.js';
export { MAIN_CONTEXT, remoteKind } from './op-description.js';
export type * from './op-description.js';
