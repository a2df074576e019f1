/** The OCI distribution client: references, credentials, tokens, pulls and pushes. */
// References are images/'s; re-exported while cli/ reaches the registry directly.
export { parseReference, formatReference, type ImageReference } from '../images/index.js';
export { registryEndpoint } from './endpoint.js';
export { checkLogin, pullImage, type ConnectionOptions, type PlatformSpec, type PulledImage } from './client.js';
export { DEFAULT_CHUNK_SIZE, pushBlobsOf, pushImage, type PushBlob, type PushOptions } from './push.js';
export { TokenCache } from './tokens.js';
export { credentialsFor, dockerConfigPath, removeCredentials, saveCredentials, type Credentials } from './credentials.js';
