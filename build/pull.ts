/**
 * Images from their registry: resolved (manifest and config into the content store, layers when
 * something needs them), or pulled whole and named in the local image store. Layers are
 * unpacked when a build first uses them, not here.
 */
import type { Platform } from '../frontend/index.js';
import { credentialsFor, pullImage, resolveImage, type ConnectionOptions, type Credentials, type PulledImage, type RemoteImage } from '../registry/index.js';
import { parseReference } from '../images/index.js';
import type { State } from './state.js';

export interface RegistryAccess {
  /** Hosts reached over plain HTTP (loopback always is). */
  readonly insecure: readonly string[];
  /** Extra CAs (PEM) by registry host. */
  readonly ca: ReadonlyMap<string, string>;
  /** Where docker's config.json is found ($DOCKER_CONFIG, $HOME). */
  readonly env: NodeJS.ProcessEnv;
}

async function connection(domain: string, access: RegistryAccess): Promise<ConnectionOptions & { credentials?: Credentials }> {
  const credentials = await credentialsFor(domain, access.env);
  return { insecure: access.insecure, ca: access.ca, ...(credentials === undefined ? {} : { credentials }) };
}

/** `ref` pulled whole into the content store and named in the local image store. */
export async function pullToStore(state: State, ref: string, platform: Platform, access: RegistryAccess): Promise<PulledImage> {
  const parsed = parseReference(ref);
  const pulled = await pullImage(parsed, platform, state.content, await connection(parsed.domain, access));
  await state.images.tagImage(ref, pulled.manifest);
  return pulled;
}

/** `ref` resolved in its registry: manifest and config in the content store, layers on demand; not named in the store. */
export async function resolveInRegistry(state: State, ref: string, platform: Platform, access: RegistryAccess): Promise<RemoteImage> {
  const parsed = parseReference(ref);
  return resolveImage(parsed, platform, state.content, await connection(parsed.domain, access));
}
