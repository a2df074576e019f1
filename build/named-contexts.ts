/**
 * `--build-context NAME=VALUE`: the named contexts of a build, as buildx and BuildKit's
 * Dockerfile frontend treat them. Names are normalised as image references are and written
 * short (`docker.io/library/alpine:latest` → `alpine`, `alpine:3.19` stays), so that a
 * context named `alpine` replaces `FROM alpine`, `FROM alpine:latest` and
 * `FROM docker.io/library/alpine` alike, but not `FROM alpine:3.19`.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors/index.js';
import type { ContentStore, Descriptor, Digest } from '../content/index.js';
import { readImageBlobs, type ImageBlobs } from '../images/index.js';
import { Annotation, MediaType, isManifestMediaType } from '../oci/index.js';
import type { Platform } from '../frontend/index.js';
import { parseReference } from '../images/index.js';

export type BuildContextSpec =
  /** A directory on this machine, a build context of its own. */
  | { readonly kind: 'local'; readonly dir: string }
  /** `docker-image://REF`: an image, from the local store or pulled like a FROM image. */
  | { readonly kind: 'image'; readonly ref: string }
  /** `docker-image://scratch`: the empty filesystem. */
  | { readonly kind: 'scratch' }
  /** `oci-layout://PATH[:TAG|@DIGEST]`: an image in an OCI layout directory. */
  | { readonly kind: 'oci-layout'; readonly dir: string; readonly tag?: string; readonly digest?: Digest };

/**
 * The key a name (a `--build-context` name, a stage name, or an image reference as written)
 * is looked up by; undefined when it is no valid reference, so that it names no context.
 */
export function contextKey(name: string): string | undefined {
  let r;
  try {
    r = parseReference(name);
  } catch {
    return undefined;
  }
  let path = r.repository;
  if (r.domain === 'docker.io' && path.startsWith('library/') && path.indexOf('/', 'library/'.length) < 0) {
    path = path.slice('library/'.length);
  }
  let short = r.domain === 'docker.io' ? path : `${r.domain}/${path}`;
  if (r.tag !== undefined) short += `:${r.tag}`;
  if (r.digest !== undefined) short += `@${r.digest}`;
  return short.endsWith(':latest') ? short.slice(0, -':latest'.length) : short;
}

/**
 * The image an OCI layout holds for a tag (default `latest`, or the only image when the
 * layout has one) or a digest, its blobs copied (verified) into `content`; for an index, the
 * manifest for `platform`.
 */
export async function importOciLayout(
  content: ContentStore,
  spec: Extract<BuildContextSpec, { kind: 'oci-layout' }>,
  platform: Platform,
): Promise<ImageBlobs> {
  const where = `oci-layout://${spec.dir}`;
  const fail = (message: string, hint?: string): never => {
    throw new BuildError('IO', `${where}: ${message}`, hint === undefined ? {} : { hint });
  };
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(await readFile(join(spec.dir, 'index.json'), 'utf8')) as { manifests?: unknown };
  } catch (e) {
    return fail(`cannot read its index.json: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'point oci-layout:// at an OCI image layout directory (one with index.json and blobs/)');
  }
  const entries = Array.isArray(index.manifests) ? (index.manifests as Descriptor[]) : [];
  let chosen: Descriptor | undefined;
  if (spec.digest !== undefined) {
    chosen = entries.find((d) => d.digest === spec.digest);
    if (chosen === undefined) {
      // A digest may name a manifest the index does not list at its top (one of an index's).
      const json = await readLayoutBlob(spec.dir, spec.digest).catch(() => fail(`no blob ${spec.digest}`));
      const mediaType = (JSON.parse(json.toString('utf8')) as { mediaType?: unknown }).mediaType;
      chosen = { mediaType: typeof mediaType === 'string' ? mediaType : MediaType.ociManifest, digest: spec.digest, size: json.length };
    }
  } else {
    const tag = spec.tag ?? 'latest';
    chosen = entries.find((d) => d.annotations?.[Annotation.refName] === tag);
    if (chosen === undefined && spec.tag === undefined && entries.length === 1) chosen = entries[0];
    if (chosen === undefined) {
      const tags = entries.flatMap((d) => (d.annotations?.[Annotation.refName] === undefined ? [] : [d.annotations[Annotation.refName]!]));
      fail(`no image tagged "${tag}"`, tags.length > 0 ? `the layout has: ${tags.join(', ')}` : 'name the image by digest: oci-layout://PATH@sha256:…');
    }
  }
  let manifest = chosen!;
  if (manifest.mediaType === MediaType.ociIndex || manifest.mediaType === MediaType.dockerManifestList) {
    const inner = JSON.parse((await copyBlob(content, spec.dir, manifest)).toString('utf8')) as { manifests?: Descriptor[] };
    const list = inner.manifests ?? [];
    const match = list.filter((d) => d.platform?.os === platform.os && d.platform?.architecture === platform.architecture);
    const pick = match.find((d) => (d.platform?.variant ?? '') === (platform.variant ?? '')) ?? match[0];
    if (pick === undefined) {
      const have = list.map((d) => [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/')).join(', ');
      fail(`no image for ${platform.os}/${platform.architecture}${platform.variant === undefined ? '' : `/${platform.variant}`}`, `the layout has: ${have}`);
    }
    manifest = pick!;
  }
  if (!isManifestMediaType(manifest.mediaType)) fail(`${manifest.digest} is a ${manifest.mediaType}, not an image manifest`);
  await copyBlob(content, spec.dir, manifest);
  const image = await readImageBlobs(content, { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size });
  for (const blob of [image.config, ...image.layers]) await copyBlob(content, spec.dir, blob);
  return image;
}

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(dir, 'blobs', algorithm!, hex!);
}

async function readLayoutBlob(dir: string, digest: string): Promise<Buffer> {
  return readFile(blobPath(dir, digest));
}

/** Copy one blob of the layout into the content store (verified against its descriptor); small ones are returned. */
async function copyBlob(content: ContentStore, dir: string, d: Descriptor): Promise<Buffer> {
  const path = blobPath(dir, d.digest);
  if (!(await content.has(d.digest))) {
    try {
      await stat(path);
    } catch {
      throw new BuildError('IO', `oci-layout://${dir}: blob ${d.digest} is missing`, { hint: 'the layout is incomplete' });
    }
    await content.writeBlob(createReadStream(path), { digest: d.digest, size: d.size });
  }
  return d.size <= 4 * 1024 * 1024 ? content.readBytes(d.digest) : Buffer.alloc(0);
}
