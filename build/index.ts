/**
 * The build worker: what cli/ (and the Action) use. A build carried out whole
 * (`buildAndExport`: state directory, build, outputs), the local store's commands, push, login,
 * and the few parsing helpers of lower folders the CLI reads its flags with.
 */
export { buildAndExport, type BuildJob, type BuildOutcome } from './build-and-export.js';
export type { CacheExport, GhaCacheExport } from './cache-export.js';
export type { CacheForm } from '../cache/index.js';
export type { CacheImport, GhaCacheImport } from './cache-import.js';
export type { InlineCacheExport } from './cache-inline.js';
export type { BuildRequest, BuiltImage } from './build.js';
export { contextKey, type BuildContextSpec } from './named-contexts.js';
export { pullToStore, type RegistryAccess } from './pull.js';
export { defaultRoot, openState, type State } from './state.js';
export type { Entitlement } from './entitlement.js';
export type { SecretSources, SshSources } from '../solver/ops/index.js';
// Outputs: exported at the end of the solve, one module per type (build/outputs/), and push in one place.
export { imageId, writeIidFile, writeMetadataFile, type Output, type Written } from './outputs/index.js';
export { pushStoredImage } from './push.js';
export { loginToRegistry, logoutFromRegistry } from './login.js';
export { diskUsage, imageFacts, pruneStore, storedImages, tagStoredImage, untagStoredImage } from './store.js';
// What the CLI needs to read output flags (reference checks, layer formats) before anything runs.
export { DEFAULT_LAYER_FORMAT, type LayerFormat } from '../exporter/index.js';
export { normalizedReferenceProblem, parseImageName, parseReference, referenceProblem } from '../images/index.js';
export type { Compression } from '../oci/index.js';
// Small helpers and types of lower folders that are all the CLI needs of them.
export { removeOwnTempPathsSync, asDigest } from '../content/index.js';
export { csvFields, CsvError, formatPlatform, hostPlatform, parseDockerfile, parsePlatform, planBuild, ramInBytes, type Platform } from '../frontend/index.js';
export type { MissReason, SolveEvent } from '../solver/core/index.js';
