/** The OCI distribution client: references, credentials, tokens, pulls and pushes. */
export { registryEndpoint } from './endpoint.js';
export { loadUndici } from './http.js';
export { checkLogin, pullImage, resolveImage, type ConnectionOptions, type PlatformSpec, type PulledImage, type RemoteImage } from './client.js';
export { DEFAULT_CHUNK_SIZE, pushBlobs, pushBlobsOf, pushImage, type PushBlob, type PushOptions } from './push.js';
export { TokenCache } from './tokens.js';
export { credentialsFor, dockerConfigPath, removeCredentials, saveCredentials, type Credentials } from './credentials.js';
export { ArtifactReader } from './artifact.js';
