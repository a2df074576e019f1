/**
 * Reading an artifact of a repository piece by piece rather than pulling it whole: its
 * manifest by tag or digest (absent on 404), then any blob it names as a verified stream when
 * a caller needs it. One session, so one token, serves them all. The build cache's registry
 * backend reads its records this way and a layer only when a hit needs it.
 */
import type { Readable } from 'node:stream';
import { sha256Of, type Descriptor, type Digest } from '../content/index.js';
import { Session, registryError, type ConnectionOptions } from './client.js';
import type { Credentials } from './credentials.js';
import { capped } from './external.js';
import { formatReference, type ImageReference } from '../images/index.js';

/** Manifests above this size are not read (an artifact's manifest is small). */
const MAX_MANIFEST = 4 << 20;

export class ArtifactReader {
  private readonly s: Session;

  constructor(
    readonly ref: ImageReference,
    opts: ConnectionOptions & { readonly credentials?: Credentials } = {},
  ) {
    this.s = new Session(ref, opts, opts.credentials);
  }

  /** The manifest under the reference's digest or tag (default latest); undefined when the registry has none. */
  async manifest(accept: readonly string[]): Promise<{ readonly bytes: Buffer; readonly digest: Digest; readonly mediaType: string } | undefined> {
    const target = this.ref.digest ?? this.ref.tag ?? 'latest';
    const res = await this.s.getIfPresent(`/v2/${this.ref.repository}/manifests/${target}`, accept);
    if (res === undefined) return undefined;
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw registryError(this.ref, `the manifest is ${bytes.length} bytes: too large`);
    const digest = sha256Of(bytes);
    if (this.ref.digest !== undefined && digest !== this.ref.digest) {
      throw registryError(this.ref, `manifest digest mismatch: expected ${this.ref.digest}, got ${digest}`);
    }
    return { bytes, digest, mediaType: String(res.headers['content-type'] ?? '').split(';')[0]!.trim() };
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
