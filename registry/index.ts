/** The OCI distribution client: references and pulls. */
export { parseReference, formatReference, registryEndpoint, type ImageReference } from './reference.js';
export { pullImage, type PlatformSpec, type PulledImage } from './client.js';
