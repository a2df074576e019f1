/**
 * Pulling an image from an OCI distribution registry on undici: the manifest (through an
 * index or manifest list, choosing the platform), then config and layers streamed into the
 * content store, every digest verified on the way (nothing unverified becomes visible).
 * Anonymous access, including Docker-style bearer tokens; credentials come later.
 */
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { BuildError } from '../errors/index.js';
import { sha256Of, type ContentStore, type Descriptor, type Digest } from '../content/index.js';
import type { Credentials } from './credentials.js';
import { formatReference, registryEndpoint, type ImageReference } from './reference.js';

export interface PlatformSpec {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface PulledImage {
  /** The platform's image manifest (stored in the content store). */
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const INDEX_TYPES = new Set(MANIFEST_TYPES.slice(0, 2));

function registryError(ref: ImageReference, message: string, hint?: string): BuildError {
  return new BuildError('REGISTRY', `${formatReference(ref)}: ${message}`, hint === undefined ? {} : { hint });
}

/** How to reach registries: plain-HTTP exceptions and extra CAs (PEM text) by host. */
export interface ConnectionOptions {
  readonly insecure?: readonly string[];
  readonly ca?: ReadonlyMap<string, string>;
}

const agents = new Map<string, Dispatcher>();

/** Waits before the 2nd, 3rd and 4th attempt of a request that failed in a way worth retrying. */
const BACKOFF_MS = [250, 1000, 3000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const retryable = (status: number) => status === 429 || status >= 500;

/** A connection pool that trusts the system CAs plus the host's own CA. */
function agentFor(domain: string, ca: string | undefined): Dispatcher | undefined {
  if (ca === undefined) return undefined;
  let a = agents.get(domain);
  if (a === undefined) {
    a = new Agent({ connect: { ca: [...rootCertificates, ca] } });
    agents.set(domain, a);
  }
  return a;
}

class Session {
  private authorization: string | undefined;
  private readonly base: string;
  private readonly dispatcher: Dispatcher | undefined;

  constructor(
    private readonly ref: ImageReference,
    connection: ConnectionOptions,
    private readonly credentials: Credentials | undefined,
    /** `pull`, or `pull,push` for a session that uploads. */
    private readonly actions = 'pull',
  ) {
    const ca = connection.ca?.get(ref.domain);
    this.base = registryEndpoint(ref.domain, connection.insecure ?? [], ca === undefined ? [] : [ref.domain]);
    this.dispatcher = agentFor(ref.domain, ca);
  }

  /** GET `/v2/<repository>/<path>`. */
  get(path: string, accept: readonly string[]) {
    return this.getURL(`/v2/${this.ref.repository}/${path}`, accept);
  }

  /**
   * The request loop every call goes through: retries with backoff on broken connections,
   * 5xx and 429; redirects followed (without the registry's authorization or CA); one 401
   * answered with the challenge. `body` is a function so that each attempt sends it anew.
   * Returns the first response that is none of those; the caller judges its status.
   */
  private async exchange(
    method: 'GET' | 'HEAD' | 'POST' | 'PUT',
    target: string,
    headers: Record<string, string>,
    body?: () => Promise<Buffer | Readable>,
  ) {
    let url = new URL(target, `${this.base}/`);
    const origin = new URL(this.base).origin;
    for (let challenged = false, redirects = 0, retries = 0; ; ) {
      const sameOrigin = url.origin === origin;
      let res;
      try {
        res = await request(url, {
          method,
          headers: { ...headers, ...(this.authorization === undefined || !sameOrigin ? {} : { authorization: this.authorization }) },
          ...(body === undefined ? {} : { body: await body() }),
          ...(this.dispatcher === undefined || !sameOrigin ? {} : { dispatcher: this.dispatcher }),
        });
      } catch (e) {
        if (retries < BACKOFF_MS.length) {
          await sleep(BACKOFF_MS[retries++]!);
          continue;
        }
        throw registryError(this.ref, `cannot reach ${url.origin}: ${(e as Error).message}`, 'check the registry address and that it is running');
      }
      if (retryable(res.statusCode) && retries < BACKOFF_MS.length) {
        await res.body.dump();
        await sleep(BACKOFF_MS[retries++]!);
        continue;
      }
      if (method === 'GET' && [301, 302, 303, 307, 308].includes(res.statusCode) && redirects < 5) {
        await res.body.dump();
        url = new URL(String(res.headers.location ?? ''), url);
        redirects++;
        continue;
      }
      if (res.statusCode === 401 && !challenged) {
        await res.body.dump();
        challenged = true;
        await this.authenticate(String(res.headers['www-authenticate'] ?? ''));
        continue;
      }
      return res;
    }
  }

  /** A location the registry named (an upload URL), as an absolute URL. */
  resolve(location: string): URL {
    return new URL(location, `${this.base}/`);
  }

  /** HEAD, POST or PUT for uploads; a refusal is about pushing. */
  async send(method: 'HEAD' | 'POST' | 'PUT', target: string, body?: () => Promise<Buffer | Readable>, headers: Record<string, string> = {}) {
    const res = await this.exchange(method, target, headers, body);
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new BuildError('REGISTRY', `${this.ref.domain} refused to let ${this.credentials === undefined ? 'an anonymous client' : 'these credentials'} push to ${this.ref.repository} (HTTP ${res.statusCode})`, {
        hint: `log in with: tsbuild login ${this.ref.domain}`,
      });
    }
    return res;
  }

  /** A GET of a registry path that must succeed (2xx); anything else is a clear error. */
  async getURL(path: string, accept: readonly string[]) {
    const res = await this.exchange('GET', path, { accept: accept.join(', ') });
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new BuildError(
        'REGISTRY',
        this.credentials === undefined
          ? `${this.ref.domain} requires authentication`
          : `${this.ref.domain} refused the credentials (HTTP ${res.statusCode})`,
        { hint: `log in with: tsbuild login ${this.ref.domain}` },
      );
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      throw registryError(this.ref, 'not found in the registry', 'check the name and tag');
    }
    if (res.statusCode >= 300) {
      await res.body.dump();
      throw registryError(this.ref, `the registry answered ${res.statusCode} for ${path}`);
    }
    return res;
  }

  private async authenticate(challenge: string): Promise<void> {
    const scheme = challenge.split(' ')[0]?.toLowerCase() ?? '';
    const c = this.credentials;
    if (scheme === 'basic') {
      if (c?.username === undefined) return; // the retry fails with "requires authentication"
      this.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
      return;
    }
    if (scheme !== 'bearer') throw registryError(this.ref, `unsupported authentication scheme "${scheme}"`);
    const params = new Map<string, string>();
    for (const p of challenge.matchAll(/(\w+)="([^"]*)"/g)) params.set(p[1]!, p[2]!);
    const realm = params.get('realm');
    if (realm === undefined) throw registryError(this.ref, 'the registry asked for a token without a realm');
    const service = params.get('service');
    const scope = `repository:${this.ref.repository}:${this.actions}`;
    let res;
    if (c?.identityToken !== undefined) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'tsbuild', scope });
      if (service !== undefined) form.set('service', service);
      res = await request(realm, {
        method: 'POST',
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }),
      });
    } else {
      const url = new URL(realm);
      if (service !== undefined) url.searchParams.set('service', service);
      url.searchParams.set('scope', scope);
      const basic = c?.username === undefined ? {} : { authorization: `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}` };
      res = await request(url, { method: 'GET', headers: basic, ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }) });
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new BuildError('REGISTRY', `the token service of ${this.ref.domain} answered ${res.statusCode}`, {
        hint: c === undefined ? `log in with: tsbuild login ${this.ref.domain}` : 'check the saved credentials',
      });
    }
    const body = (await res.body.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token === undefined) throw registryError(this.ref, 'the token service sent no token');
    this.authorization = `Bearer ${token}`;
  }
}

export interface PushBlob {
  readonly descriptor: Descriptor;
  /** A fresh stream of the blob's bytes. */
  open(): Promise<Readable>;
}

/**
 * Push an image: each blob the registry does not have yet (HEAD) is uploaded in one PUT,
 * then the manifest goes last, under the reference's tag (or digest).
 */
export async function pushImage(
  ref: ImageReference,
  blobs: readonly PushBlob[],
  manifest: { readonly mediaType: string; readonly bytes: Buffer },
  opts: ConnectionOptions & { credentials?: Credentials } = {},
): Promise<Digest> {
  const s = new Session(ref, opts, opts.credentials, 'pull,push');
  const repo = ref.repository;
  const queue = [...blobs];
  const uploadOnce = async (b: PushBlob) => {
    const head = await s.send('HEAD', `v2/${repo}/blobs/${b.descriptor.digest}`);
    await head.body.dump();
    if (head.statusCode === 200) return;
    const start = await s.send('POST', `v2/${repo}/blobs/uploads/`, undefined, { 'content-length': '0' });
    await start.body.dump();
    const location = start.headers.location;
    if (start.statusCode !== 202 || location === undefined) {
      throw registryError(ref, `the registry refused to start an upload (HTTP ${start.statusCode})`);
    }
    const target = s.resolve(String(location));
    target.searchParams.set('digest', b.descriptor.digest);
    const put = await s.send('PUT', target.href, () => b.open(), {
      'content-type': 'application/octet-stream',
      'content-length': String(b.descriptor.size),
    });
    await put.body.dump();
    if (put.statusCode !== 201) throw registryError(ref, `the upload of ${b.descriptor.digest} failed (HTTP ${put.statusCode})`);
  };
  // An upload that breaks is started again from scratch (a new upload session), a few times.
  const upload = async (b: PushBlob) => {
    for (let retry = 0; ; retry++) {
      try {
        return await uploadOnce(b);
      } catch (e) {
        if (retry >= 2 || !(e instanceof BuildError) || e.code === 'NOT_SUPPORTED') throw e;
        await sleep(BACKOFF_MS[retry]!);
      }
    }
  };
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let b = queue.shift(); b !== undefined; b = queue.shift()) await upload(b);
  });
  await Promise.all(workers);
  const digest = sha256Of(manifest.bytes);
  const res = await s.send('PUT', `v2/${repo}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, async () => manifest.bytes, {
    'content-type': manifest.mediaType,
  });
  await res.body.dump();
  if (res.statusCode !== 201) throw registryError(ref, `the registry refused the manifest (HTTP ${res.statusCode})`);
  return digest;
}

/** Whether `credentials` open the registry (what `tsbuild login` checks before saving). */
export async function checkLogin(domain: string, credentials: Credentials, connection: ConnectionOptions = {}): Promise<void> {
  const s = new Session({ domain, repository: '' }, connection, credentials);
  const res = await s.getURL('/v2/', ['application/json']);
  await res.body.dump();
}

async function fetchJSON(s: Session, ref: ImageReference, target: string, expected?: string) {
  const res = await s.get(`manifests/${target}`, MANIFEST_TYPES);
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const digest = sha256Of(bytes);
  if (expected !== undefined && digest !== expected) {
    throw registryError(ref, `manifest digest mismatch: expected ${expected}, got ${digest}`);
  }
  const headerType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown[] };
  const mediaType = parsed.mediaType ?? headerType;
  return { bytes, digest, mediaType, parsed };
}

interface IndexEntry extends Omit<Descriptor, 'platform'> {
  readonly platform?: { os?: string; architecture?: string; variant?: string };
}

function pickPlatform(entries: readonly IndexEntry[], want: PlatformSpec): IndexEntry | undefined {
  const matches = entries.filter((e) => e.platform?.os === want.os && e.platform?.architecture === want.architecture);
  if (want.variant !== undefined) {
    const exact = matches.find((e) => e.platform?.variant === want.variant);
    if (exact !== undefined) return exact;
  }
  return matches.find((e) => e.platform?.variant === undefined || e.platform.variant === '') ?? matches[0];
}

async function storeBlob(s: Session, store: ContentStore, ref: ImageReference, desc: Descriptor): Promise<void> {
  if (await store.has(desc.digest)) return;
  const res = await s.get(`blobs/${desc.digest}`, ['*/*']);
  try {
    // The writer verifies size and digest at commit; a mismatch leaves nothing behind.
    await store.writeBlob(Readable.from(res.body), { digest: desc.digest, size: desc.size });
  } catch (e) {
    throw registryError(ref, `blob ${desc.digest} did not arrive intact: ${(e as Error).message}`);
  }
}

/** Pull `ref` for `platform` into `store`. */
export async function pullImage(
  ref: ImageReference,
  platform: PlatformSpec,
  store: ContentStore,
  opts: ConnectionOptions & { credentials?: Credentials } = {},
): Promise<PulledImage> {
  const s = new Session(ref, opts, opts.credentials);
  let m = await fetchJSON(s, ref, ref.digest ?? ref.tag ?? 'latest', ref.digest);
  if (INDEX_TYPES.has(m.mediaType)) {
    const entries = (m.parsed.manifests ?? []) as IndexEntry[];
    const chosen = pickPlatform(entries, platform);
    if (chosen === undefined) {
      const have = entries.map((e) => [e.platform?.os, e.platform?.architecture, e.platform?.variant].filter(Boolean).join('/')).join(', ');
      throw registryError(ref, `no image for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`, `the image has: ${have}`);
    }
    m = await fetchJSON(s, ref, chosen.digest, chosen.digest);
  }
  const manifest = m.parsed as unknown as { config?: Descriptor; layers?: Descriptor[] };
  if (manifest.config === undefined || manifest.layers === undefined) {
    throw registryError(ref, `unsupported manifest type ${m.mediaType || '(none)'}`);
  }
  const stored = await store.writeBlob(m.bytes, { digest: m.digest as Digest, size: m.bytes.length });
  await storeBlob(s, store, ref, manifest.config);
  // Layers arrive concurrently, each streamed straight into the store.
  const queue = [...manifest.layers];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) await storeBlob(s, store, ref, d);
  });
  await Promise.all(workers);
  return {
    manifest: { mediaType: m.mediaType, digest: stored.digest, size: stored.size },
    config: manifest.config,
    layers: manifest.layers,
  };
}
