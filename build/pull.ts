/**
 * An image pulled from its registry into the content store (every digest verified on the
 * way) and named in the local image store. Its layers are unpacked when a build first uses
 * them, not here.
 */
import type { Platform } from '../frontend/index.js';
import { credentialsFor, pullImage, type PulledImage } from '../registry/index.js';
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

export async function pullToStore(state: State, ref: string, platform: Platform, access: RegistryAccess): Promise<PulledImage> {
  const parsed = parseReference(ref);
  const credentials = await credentialsFor(parsed.domain, access.env);
  const pulled = await pullImage(parsed, platform, state.content, {
    insecure: access.insecure,
    ca: access.ca,
    ...(credentials === undefined ? {} : { credentials }),
  });
  await state.images.tagImage(ref, pulled.manifest);
  return pulled;
}
