/**
 * Pushing an image: each blob the repository lacks is mounted from another repository of the
 * same registry known to hold it, or uploaded — in one PUT, or in PATCH chunks when larger
 * than the chunk size, resumed where the registry says it got to when a chunk fails; the
 * manifest goes last. Where each blob went is recorded for later mounts.
 */
import type { Readable } from 'node:stream';
import { BuildError } from '../errors/index.js';
import { sha256Of, type BlobSources, type ContentProvider, type Descriptor, type Digest } from '../content/index.js';
import { BACKOFF_MS, Session, isDenied, registryError, retryable, sleep, type ConnectionOptions } from './client.js';
import type { Credentials } from './credentials.js';
import { isNondistributable } from '../oci/index.js';
import type { ImageReference } from '../images/index.js';

export interface PushBlob {
  readonly descriptor: Descriptor;
  /** A fresh stream of the blob's bytes from `start` (default 0) to `end` (exclusive; default the end). */
  open(start?: number, end?: number): Promise<Readable>;
}

/** Blobs of a content store, ready to push. */
export function pushBlobsOf(provider: ContentProvider, descriptors: readonly Descriptor[]): PushBlob[] {
  return descriptors.map((descriptor) => ({
    descriptor,
    open: (start = 0, end) => provider.reader(descriptor.digest, end === undefined ? { start } : { start, end }),
  }));
}

/** Blob uploads under way at once. */
const UPLOADS_AT_ONCE = 5;

/** Blobs above this size go in chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 32 << 20;

export interface PushOptions extends ConnectionOptions {
  readonly credentials?: Credentials;
  /** Where blobs are known to be: mounts are tried from there, and pushed blobs recorded. */
  readonly sources?: BlobSources;
  /** Blobs larger than this are sent in PATCH chunks of this many bytes. */
  readonly chunkSize?: number;
  /** Blobs known to be in the target repository already (a manifest there names them): not probed. */
  readonly present?: ReadonlySet<Digest>;
}

const OCTETS = { 'content-type': 'application/octet-stream' };

/** The upload's progress as the registry reports it (`Range: 0-LAST`); 0 when it reports none. */
function progressOf(range: unknown): number {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(String(range ?? ''));
  // "0-0" means nothing or one byte: taken as nothing, which is always safe.
  return m === null || m[1] === '0' ? 0 : Number(m[1]) + 1;
}

class Uploader {
  constructor(
    private readonly s: Session,
    private readonly ref: ImageReference,
    private readonly chunkSize: number,
  ) {}

  private get repo() {
    return this.ref.repository;
  }

  /** A new upload session; its URL. */
  async start(): Promise<URL> {
    const res = await this.s.send('POST', `v2/${this.repo}/blobs/uploads/`, { headers: { 'content-length': '0' } });
    await res.body.dump();
    const location = res.headers.location;
    if (res.statusCode !== 202 || location === undefined) {
      throw registryError(this.ref, `the registry refused to start an upload (HTTP ${res.statusCode})`);
    }
    return this.s.resolve(String(location));
  }

  /**
   * Asks the registry to link `digest` from repository `from`: true when done (201); a URL
   * when it started an upload instead (202); undefined when it declined in any other way.
   */
  async mount(digest: Digest, from: string): Promise<true | URL | undefined> {
    const query = new URLSearchParams({ mount: digest, from });
    const res = await this.s.call('POST', `v2/${this.repo}/blobs/uploads/?${query}`, { headers: { 'content-length': '0' } });
    await res.body.dump();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202 && res.headers.location !== undefined) return this.s.resolve(String(res.headers.location));
    return undefined;
  }

  /** Closes an upload at `location` with the blob's digest. */
  private async finish(b: PushBlob, location: URL, body?: () => Promise<Readable>): Promise<void> {
    const target = new URL(location);
    target.searchParams.set('digest', b.descriptor.digest);
    const size = body === undefined ? 0 : b.descriptor.size;
    const put = await this.s.send('PUT', target.href, { headers: { ...OCTETS, 'content-length': String(size) }, ...(body === undefined ? {} : { body }) });
    await put.body.dump();
    if (put.statusCode !== 201) throw registryError(this.ref, `the upload of ${b.descriptor.digest} failed (HTTP ${put.statusCode})`);
  }

  async upload(b: PushBlob, location: URL): Promise<void> {
    if (b.descriptor.size <= this.chunkSize) return this.finish(b, location, () => b.open());
    return this.chunked(b, location);
  }

  /**
   * PATCH chunks, each streamed from the blob file, following the Location each answer names.
   * A chunk that breaks or meets a 5xx: ask the upload's status and go on from the registry's
   * count when it reports progress, else start a fresh upload; a few failures in a row end it.
   */
  private async chunked(b: PushBlob, first: URL): Promise<void> {
    const { size, digest } = b.descriptor;
    let location = first;
    let offset = 0;
    for (let failures = 0; offset < size; ) {
      const start = offset;
      const end = Math.min(start + this.chunkSize, size);
      let res;
      try {
        res = await this.s.call('PATCH', location.href, {
          headers: { ...OCTETS, 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) },
          body: () => b.open(start, end),
          retry: false, // a resend could append bytes twice: the status check below decides
        });
      } catch (e) {
        if (!(e instanceof BuildError)) throw e;
        res = undefined; // the connection broke
      }
      if (res !== undefined) await res.body.dump();
      if (res?.statusCode === 401 || res?.statusCode === 403) throw this.s.refused(res.statusCode);
      if (res?.statusCode === 202 && res.headers.location !== undefined) {
        location = this.s.resolve(String(res.headers.location));
        offset = end;
        failures = 0;
        continue;
      }
      if (res !== undefined && !retryable(res.statusCode)) {
        throw registryError(this.ref, `the upload of ${digest} failed at byte ${start} (HTTP ${res.statusCode})`);
      }
      if (failures >= BACKOFF_MS.length) throw registryError(this.ref, `the upload of ${digest} kept failing at byte ${start}`, 'check the registry and its logs');
      await sleep(BACKOFF_MS[failures++]!);
      const status = await this.s.call('GET', location.href);
      await status.body.dump();
      const reached = status.statusCode === 204 ? progressOf(status.headers.range) : 0;
      if (reached > 0 && reached <= size && status.headers.location !== undefined) {
        location = this.s.resolve(String(status.headers.location));
        offset = reached;
      } else {
        // No progress the registry vouches for: drop that upload and begin again cleanly.
        await this.s.call('DELETE', location.href, { retry: false }).then((r) => r.body.dump(), () => undefined);
        location = await this.start();
        offset = 0;
      }
    }
    await this.finish(b, location);
  }
}

/**
 * Push an image: each blob the repository lacks is mounted or uploaded (four at a time), then
 * the manifest goes under the reference's tag (or digest). Non-distributable layers are not
 * sent (oci/'s isNondistributable: pushes leave such blobs out, as containerd, BuildKit and
 * go-containerregistry do; the manifest keeps their descriptors, `urls` and all). Returns the manifest's digest.
 */
export async function pushImage(
  ref: ImageReference,
  all: readonly PushBlob[],
  manifest: { readonly mediaType: string; readonly bytes: Buffer },
  opts: PushOptions = {},
): Promise<Digest> {
  const repo = ref.repository;
  const s = await uploadBlobs(ref, all, opts);
  const digest = sha256Of(manifest.bytes);
  const res = await s.send('PUT', `v2/${repo}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, {
    headers: { 'content-type': manifest.mediaType },
    body: async () => manifest.bytes,
  });
  await res.body.dump();
  if (res.statusCode !== 201) throw registryError(ref, `the registry refused the manifest (HTTP ${res.statusCode})`);
  return digest;
}

/**
 * Pushes blobs without a manifest (each the repository lacks mounted or uploaded, as
 * pushImage does): a cache export sends each layer as soon as its step has made it.
 */
export async function pushBlobs(ref: ImageReference, all: readonly PushBlob[], opts: PushOptions = {}): Promise<void> {
  await uploadBlobs(ref, all, opts);
}

/** The blobs of a push, largest first, a few at once; the session, for the manifest. */
async function uploadBlobs(ref: ImageReference, all: readonly PushBlob[], opts: PushOptions): Promise<Session> {
  const repo = ref.repository;
  const blobs = all.filter((b) => !isNondistributable(b.descriptor.mediaType));
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new BuildError('USAGE', `invalid upload chunk size ${chunkSize}`);
  // Another repository of this registry holding the blob, to mount from; its pull scope goes
  // into the session's token from the start.
  const mountFrom = new Map<Digest, string>();
  for (const b of blobs) {
    if (opts.present?.has(b.descriptor.digest) === true) continue;
    const from = (await opts.sources?.sourcesOf(b.descriptor.digest, ref.domain))?.find((r) => r !== repo);
    if (from !== undefined) mountFrom.set(b.descriptor.digest, from);
  }
  const s = new Session(ref, opts, opts.credentials, 'pull,push', [...new Set(mountFrom.values())].map((r) => `repository:${r}:pull`));
  const up = new Uploader(s, ref, chunkSize);
  const uploadOnce = async (b: PushBlob) => {
    const { digest } = b.descriptor;
    if (opts.present?.has(digest) === true) return;
    const head = await s.send('HEAD', `v2/${repo}/blobs/${digest}`);
    await head.body.dump();
    if (head.statusCode !== 200) {
      const from = mountFrom.get(digest);
      const mounted = from === undefined ? undefined : await up.mount(digest, from);
      if (mounted !== true) await up.upload(b, mounted ?? (await up.start()));
    }
    await opts.sources?.recordSource(digest, ref.domain, repo);
  };
  // An upload that breaks is started again from scratch (a new upload session), a few times;
  // a refusal is final.
  const upload = async (b: PushBlob) => {
    for (let retry = 0; ; retry++) {
      try {
        return await uploadOnce(b);
      } catch (e) {
        if (retry >= 2 || !(e instanceof BuildError) || isDenied(e)) throw e;
        await sleep(BACKOFF_MS[retry]!);
      }
    }
  };
  // Five at a time, as dockerd's max-concurrent-uploads, largest first, so that the push
  // does not end with one large upload going alone while small ones are long done; the first
  // failure stops the others taking more.
  const queue = [...blobs].sort((a, b) => b.descriptor.size - a.descriptor.size);
  let failure: { error: unknown } | undefined;
  const workers = Array.from({ length: Math.min(UPLOADS_AT_ONCE, queue.length) }, async () => {
    for (let b = queue.shift(); b !== undefined && failure === undefined; b = queue.shift()) {
      await upload(b).catch((error: unknown) => void (failure ??= { error }));
    }
  });
  await Promise.all(workers);
  if (failure !== undefined) throw failure.error;
  return s;
}
