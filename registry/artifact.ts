/**
 * Reading an artifact of a repository piece by piece rather than pulling it whole: its
 * manifest by tag or digest (absent on 404; through an index, the platform's), then any blob
 * it names as a verified stream when a caller needs it. One session, so one token, serves them all. The build cache's registry
 * backend reads its records this way and a layer only when a hit needs it.
 */
import type { Readable } from 'node:stream';
import { sha256Of, type Descriptor, type Digest } from '../content/index.js';
import { INDEX_TYPES, MANIFEST_TYPES, pickPlatform, Session, registryError, type ConnectionOptions, type IndexEntry, type PlatformSpec } from './client.js';
import type { Credentials } from './credentials.js';
import { capped } from './external.js';
import { formatReference, type ImageReference } from '../images/index.js';

/** Manifests above this size are not read (an artifact's manifest is small). */
const MAX_MANIFEST = 4 << 20;

/** A manifest as the registry served it: its bytes, their digest, its media type (the Content-Type). */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly mediaType: string;
}

export class ArtifactReader {
  private readonly s: Session;

  constructor(
    readonly ref: ImageReference,
    opts: ConnectionOptions & { readonly credentials?: Credentials } = {},
  ) {
    this.s = new Session(ref, opts, opts.credentials);
  }

  /** The manifest under the reference's digest or tag (default latest); undefined when the registry has none. */
  async manifest(accept: readonly string[]): Promise<FetchedManifest | undefined> {
    return this.manifestAt(this.ref.digest ?? this.ref.tag ?? 'latest', accept, this.ref.digest);
  }

  private async manifestAt(target: string, accept: readonly string[], expected: string | undefined): Promise<FetchedManifest | undefined> {
    const res = await this.s.getIfPresent(`/v2/${this.ref.repository}/manifests/${target}`, accept);
    if (res === undefined) return undefined;
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw registryError(this.ref, `the manifest is ${bytes.length} bytes: too large`);
    const digest = sha256Of(bytes);
    if (expected !== undefined && digest !== expected) {
      throw registryError(this.ref, `manifest digest mismatch: expected ${expected}, got ${digest}`);
    }
    return { bytes, digest, mediaType: String(res.headers['content-type'] ?? '').split(';')[0]!.trim() };
  }

  /**
   * The manifest under the reference, of any kind (an image's, an artifact's); through an
   * index or manifest list, the one of `platform`. Undefined when the registry has none;
   * `{ noPlatform }` (the platforms the index has) when the index has none for `platform`.
   * An index `isLeaf` takes is returned as it is (an artifact in index form lists blobs, not
   * platforms' manifests).
   */
  async platformManifest(platform: PlatformSpec, isLeaf: (bytes: Buffer) => boolean = () => false): Promise<FetchedManifest | { readonly noPlatform: string } | undefined> {
    const top = await this.manifest(MANIFEST_TYPES);
    if (top === undefined) return undefined;
    let parsed: { mediaType?: unknown; manifests?: unknown };
    try {
      parsed = JSON.parse(top.bytes.toString('utf8')) as typeof parsed;
    } catch {
      throw registryError(this.ref, 'the manifest is not JSON');
    }
    const mediaType = typeof parsed.mediaType === 'string' ? parsed.mediaType : top.mediaType;
    if (!INDEX_TYPES.has(mediaType) || isLeaf(top.bytes)) return { ...top, mediaType };
    const entries = Array.isArray(parsed.manifests) ? (parsed.manifests as IndexEntry[]) : [];
    const chosen = pickPlatform(entries, platform);
    if (chosen === undefined) return { noPlatform: entries.map((e) => [e.platform?.os, e.platform?.architecture, e.platform?.variant].filter(Boolean).join('/')).join(', ') };
    const child = await this.manifestAt(chosen.digest, MANIFEST_TYPES, chosen.digest);
    if (child === undefined) throw registryError(this.ref, `the index names ${chosen.digest}, which the registry does not have`);
    return child;
  }

  /** A small blob read whole, its size and digest checked. */
  async bytes(desc: Descriptor): Promise<Buffer> {
    if (desc.size > MAX_MANIFEST) throw registryError(this.ref, `blob ${desc.digest} is ${desc.size} bytes: too large to read whole`);
    const bytes = Buffer.from(await (await this.s.get(`blobs/${desc.digest}`, ['*/*'])).body.arrayBuffer());
    if (bytes.length !== desc.size || sha256Of(bytes) !== desc.digest) throw registryError(this.ref, `blob ${desc.digest} did not arrive intact`);
    return bytes;
  }

  /**
   * A blob's bytes as a stream, cut off past its size; the reader verifies the digest (the
   * content store's writer does, at commit).
   */
  async open(desc: Descriptor): Promise<Readable> {
    const res = await this.s.getIfPresent(`/v2/${this.ref.repository}/blobs/${desc.digest}`, ['*/*']);
    if (res === undefined) throw registryError(this.ref, `blob ${desc.digest} is not in the registry`);
    return capped(res.body, desc.size, formatReference(this.ref));
  }
}
