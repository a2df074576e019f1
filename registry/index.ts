/** The OCI distribution client: references, credentials, pulls. */
export { parseReference, formatReference, registryEndpoint, type ImageReference } from './reference.js';
export { checkLogin, pullImage, pushImage, type ConnectionOptions, type PlatformSpec, type PulledImage, type PushBlob } from './client.js';
export { credentialsFor, dockerConfigPath, removeCredentials, saveCredentials, type Credentials } from './credentials.js';
