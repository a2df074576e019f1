/** The solver core: graph, digests, cache keys, scheduling. Imports no other layer. */
export { canonicalJSON, digestOf, sha256 } from './digest.js';
// One digest brand for every folder: oci/'s (vertex digests and blob digests mix freely).
export { isDigest, type Digest } from '../../oci/index.js';
export { vertex } from './graph.js';
export { Solver, VertexError, type SolverOptions } from './solver.js';
export type * from './types.js';
export { MAIN_CONTEXT, remoteKind } from './op-description.js';
export type * from './op-description.js';
export { boundedValue, explainMiss, shortDigest, MAX_LISTED, type FileDigests, type KeyParts, type MissContext, type MissReason, type StepExplanation } from './explain.js';
