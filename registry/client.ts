/**
 * Talking to an OCI distribution registry on undici: one session per repository, through one
 * request loop (retries, redirects, the authentication challenge), and pulls: the manifest
 * (through an index or manifest list, choosing the platform), then config and layers streamed
 * into the content store, every digest verified on the way (nothing unverified becomes
 * visible). Pushes are in push.ts. Credentials never appear in a message.
 *
 * Why one file: the request loop, the challenge and the pull share one session state (tokens,
 * redirects, retries); split, each part would need the others' internals.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BuildError } from '../errors/index.js';
import { sha256Of, type ContentStore, type Descriptor } from '../content/index.js';
import type { Credentials } from './credentials.js';
import { isNondistributable } from '../oci/index.js';
import { capped, fetchFromURLs } from './external.js';
import { formatReference, type ImageReference } from '../images/index.js';
import { registryEndpoint } from './endpoint.js';
import { loadUndici, trustedCas } from './http.js';
import { expiryOf, parseChallenge, processTokens, TokenCache, type BearerChallenge, type IssuedToken } from './tokens.js';

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

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
export const INDEX_TYPES = new Set(MANIFEST_TYPES.slice(0, 2));

export function registryError(ref: ImageReference, message: string, hint?: string): BuildError {
  return new BuildError('REGISTRY', `${formatReference(ref)}: ${message}`, hint === undefined ? {} : { hint });
}

/** Errors of a registry or token service refusing access: retrying cannot help them. */
const denials = new WeakSet<BuildError>();

function denied(domain: string, message: string): BuildError {
  const e = new BuildError('REGISTRY', message, { hint: `log in with: tsbuild login ${domain}` });
  denials.add(e);
  return e;
}

export const isDenied = (e: unknown): boolean => e instanceof BuildError && denials.has(e);

/** How to reach registries: plain-HTTP exceptions and extra CAs (PEM text) by host. */
export interface ConnectionOptions {
  readonly insecure?: readonly string[];
  readonly ca?: ReadonlyMap<string, string>;
  /** Bearer tokens shared across sessions; the process's own cache when absent. */
  readonly tokens?: TokenCache;
}

const agents = new Map<string, Dispatcher>();

/** Waits before the 2nd, 3rd and 4th attempt of a request that failed in a way worth retrying. */
export const BACKOFF_MS = [250, 1000, 3000];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const retryable = (status: number) => status === 429 || status >= 500;

/** Whether a failed request failed on the server's certificate (OpenSSL's verify codes, Node's name check). */
function isCertificateError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET_ISSUER|VERIFY)/.test(code);
}

/** A connection pool that trusts the system CAs plus the host's own CA. */
async function agentFor(domain: string, ca: string | undefined): Promise<Dispatcher | undefined> {
  if (ca === undefined) return undefined;
  const { Agent } = await loadUndici();
  let a = agents.get(domain);
  if (a === undefined) {
    a = new Agent({ connect: { ca: trustedCas(ca) } });
    agents.set(domain, a);
  }
  return a;
}

const basicAuth = (c: Credentials) => `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;

/**
 * Token scopes (`repository:NAME:ACTIONS`) as a set: one entry per resource, its actions
 * merged, so that "pull,push" and a challenge's "pull" for the same repository ask for one
 * token, and the same scopes always make the same cache key.
 */
class Scopes {
  readonly #actions = new Map<string, Set<string>>();

  add(scope: string): void {
    const cut = scope.lastIndexOf(':');
    if (cut <= 0) return;
    const resource = scope.slice(0, cut);
    const actions = this.#actions.get(resource) ?? new Set<string>();
    for (const a of scope.slice(cut + 1).split(',')) if (a !== '') actions.add(a);
    this.#actions.set(resource, actions);
  }

  list(): string[] {
    return [...this.#actions].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`).sort();
  }
}

export interface CallOptions {
  readonly headers?: Record<string, string>;
  /** Called anew for each attempt. */
  readonly body?: () => Promise<Buffer | Readable>;
  /** Retry broken connections, 5xx and 429 (default); off where a retry could send bytes twice. */
  readonly retry?: boolean;
}

export class Session {
  private readonly base: string;
  private readonly origin: string;
  private readonly dispatcher: Promise<Dispatcher | undefined>;
  private readonly tokens: TokenCache;
  private readonly scopes = new Scopes();
  private basic: string | undefined;
  private bearer: BearerChallenge | undefined;

  constructor(
    readonly ref: ImageReference,
    connection: ConnectionOptions,
    private readonly credentials: Credentials | undefined,
    /** `pull`, or `pull,push` for a session that uploads. */
    actions = 'pull',
    /** More scopes its token needs (`repository:OTHER:pull` to mount blobs from OTHER). */
    extraScopes: readonly string[] = [],
  ) {
    const ca = connection.ca?.get(ref.domain);
    this.base = registryEndpoint(ref.domain, connection.insecure ?? [], ca === undefined ? [] : [ref.domain]);
    this.origin = new URL(this.base).origin;
    this.dispatcher = agentFor(ref.domain, ca);
    this.tokens = connection.tokens ?? processTokens;
    if (ref.repository !== '') this.scopes.add(`repository:${ref.repository}:${actions}`);
    for (const scope of extraScopes) this.scopes.add(scope);
    // A token service this registry named before: ask it first, saving a 401 per session.
    this.bearer = this.tokens.challengeFor(this.origin);
  }

  /** GET `/v2/<repository>/<path>`. */
  get(path: string, accept: readonly string[]) {
    return this.getURL(`/v2/${this.ref.repository}/${path}`, accept);
  }

  /** What to send as Authorization to the registry: Basic, a live bearer token, or nothing. */
  private async authorization(): Promise<{ header: string; key?: string; token?: string } | undefined> {
    if (this.basic !== undefined) return { header: this.basic };
    const challenge = this.bearer;
    if (challenge === undefined) return undefined;
    const key = TokenCache.key(this.origin, challenge, this.scopes.list(), this.credentials);
    const token = await this.tokens.obtain(key, () => this.fetchToken(challenge));
    return { header: `Bearer ${token}`, key, token };
  }

  /**
   * The request loop every call goes through: retries with backoff on broken connections,
   * 5xx and 429 (unless `retry` is false); redirects followed (without the registry's
   * authorization or CA); one 401 answered with the challenge, a refused token forgotten.
   * Returns the first response that is none of those; the caller judges its status.
   */
  async call(method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', target: string, opts: CallOptions = {}) {
    let url = new URL(target, `${this.base}/`);
    const retry = opts.retry ?? true;
    for (let challenged = false, redirects = 0, retries = 0; ; ) {
      const sameOrigin = url.origin === this.origin;
      const auth = sameOrigin ? await this.authorization() : undefined;
      const { request } = await loadUndici();
      const dispatcher = await this.dispatcher;
      let res;
      try {
        res = await request(url, {
          method,
          headers: { ...opts.headers, ...(auth === undefined ? {} : { authorization: auth.header }) },
          ...(opts.body === undefined ? {} : { body: await opts.body() }),
          ...(dispatcher === undefined || !sameOrigin ? {} : { dispatcher }),
        });
      } catch (e) {
        // A certificate that is not trusted stays so: no retry.
        if (isCertificateError(e)) {
          throw registryError(this.ref, `cannot reach ${url.origin}: ${(e as Error).message}`, `its TLS certificate is not trusted: give the CA that signed it with --registry-ca ${url.host}=FILE (or NODE_EXTRA_CA_CERTS)`);
        }
        if (retry && retries < BACKOFF_MS.length) {
          await sleep(BACKOFF_MS[retries++]!);
          continue;
        }
        throw registryError(this.ref, `cannot reach ${url.origin}: ${(e as Error).message}`, 'check the registry address and that it is running');
      }
      if (retry && retryable(res.statusCode) && retries < BACKOFF_MS.length) {
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
      if (res.statusCode === 401 && !challenged && sameOrigin) {
        await res.body.dump();
        challenged = true;
        // The registry refused the token it was sent (expired, or short of a scope): never again.
        if (auth?.key !== undefined) await this.tokens.drop(auth.key, auth.token!);
        this.challenged(String(res.headers['www-authenticate'] ?? ''));
        continue;
      }
      return res;
    }
  }

  private challenged(header: string): void {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      // Without a username the retry fails with "requires authentication".
      if (this.credentials?.username !== undefined) this.basic = basicAuth(this.credentials);
      return;
    }
    if (scheme !== 'bearer') throw registryError(this.ref, `unsupported authentication scheme "${scheme}"`);
    const realm = params.get('realm');
    if (realm === undefined) throw registryError(this.ref, 'the registry asked for a token without a realm');
    for (const scope of (params.get('scope') ?? '').split(' ')) if (scope !== '') this.scopes.add(scope);
    const service = params.get('service');
    this.bearer = { realm, ...(service === undefined ? {} : { service }) };
    this.tokens.rememberChallenge(this.origin, this.bearer);
  }

  /** A location the registry named (an upload URL), as an absolute URL. */
  resolve(location: string): URL {
    return new URL(location, `${this.base}/`);
  }

  /** The error for a 401 or 403 to an upload. */
  refused(status: number): BuildError {
    const who = this.credentials === undefined ? 'an anonymous client' : 'these credentials';
    return denied(this.ref.domain, `${this.ref.domain} refused to let ${who} push to ${this.ref.repository} (HTTP ${status})`);
  }

  /** A call for uploads: a refusal is about pushing. */
  async send(method: 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', target: string, opts: CallOptions = {}) {
    const res = await this.call(method, target, opts);
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw this.refused(res.statusCode);
    }
    return res;
  }

  /** A GET of a registry path that must succeed (2xx); anything else is a clear error. */
  async getURL(path: string, accept: readonly string[]) {
    const res = await this.getIfPresent(path, accept);
    if (res === undefined) throw registryError(this.ref, 'not found in the registry', 'check the name and tag');
    return res;
  }

  /** As getURL, but undefined when the registry answers 404. */
  async getIfPresent(path: string, accept: readonly string[]) {
    const res = await this.call('GET', path, { headers: { accept: accept.join(', ') } });
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw denied(
        this.ref.domain,
        this.credentials === undefined
          ? `${this.ref.domain} requires authentication`
          : `${this.ref.domain} refused the credentials (HTTP ${res.statusCode})`,
      );
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.statusCode >= 300) {
      await res.body.dump();
      throw registryError(this.ref, `the registry answered ${res.statusCode} for ${path}`);
    }
    return res;
  }

  /** A token from the challenge's realm for this session's scopes (the distribution token spec). */
  private async fetchToken(challenge: BearerChallenge): Promise<IssuedToken> {
    const c = this.credentials;
    const scopes = this.scopes.list();
    const realm = new URL(challenge.realm, `${this.base}/`);
    const agent = await this.dispatcher;
    const dispatcher = agent === undefined || realm.origin !== this.origin ? {} : { dispatcher: agent };
    const { request } = await loadUndici();
    const sentAt = Date.now();
    let res;
    try {
      if (c?.identityToken !== undefined) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'tsbuild', scope: scopes.join(' ') });
        if (challenge.service !== undefined) form.set('service', challenge.service);
        res = await request(realm, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...dispatcher });
      } else {
        if (challenge.service !== undefined) realm.searchParams.set('service', challenge.service);
        for (const scope of scopes) realm.searchParams.append('scope', scope);
        const headers = c?.username === undefined ? {} : { authorization: basicAuth(c) };
        res = await request(realm, { method: 'GET', headers, ...dispatcher });
      }
    } catch (e) {
      throw new BuildError('REGISTRY', `cannot reach the token service of ${this.ref.domain} at ${realm.origin}: ${(e as Error).message}`, {
        hint: 'check the registry address and that its token service is running',
      });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw denied(
        this.ref.domain,
        c === undefined ? `${this.ref.domain} requires authentication` : `${this.ref.domain} refused the credentials (its token service answered ${res.statusCode})`,
      );
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new BuildError('REGISTRY', `the token service of ${this.ref.domain} answered ${res.statusCode}`, {
        hint: c === undefined ? `log in with: tsbuild login ${this.ref.domain}` : 'check the saved credentials',
      });
    }
    const body = (await res.body.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw registryError(this.ref, 'the token service sent no token');
    return { token, expiresAt: expiryOf(sentAt, body.expires_in) };
  }
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

export interface IndexEntry extends Omit<Descriptor, 'platform'> {
  readonly platform?: { os?: string; architecture?: string; variant?: string };
}

export function pickPlatform(entries: readonly IndexEntry[], want: PlatformSpec): IndexEntry | undefined {
  const matches = entries.filter((e) => e.platform?.os === want.os && e.platform?.architecture === want.architecture);
  if (want.variant !== undefined) {
    const exact = matches.find((e) => e.platform?.variant === want.variant);
    if (exact !== undefined) return exact;
  }
  return matches.find((e) => e.platform?.variant === undefined || e.platform.variant === '') ?? matches[0];
}

/**
 * A blob of the image into the store, unless it is there. Either way the repository holds it
 * (its manifest names it), which is recorded for cross-repository mounts on later pushes —
 * except for non-distributable layers, which registries need not hold. A blob the registry
 * does not have (404) comes from the descriptor's `urls`, when it has some (external.ts).
 */
async function storeBlob(s: Session, store: ContentStore, ref: ImageReference, desc: Descriptor): Promise<void> {
  let inRegistry = !isNondistributable(desc.mediaType);
  if (!(await store.has(desc.digest))) {
    const res = await s.getIfPresent(`/v2/${ref.repository}/blobs/${desc.digest}`, ['*/*']);
    if (res === undefined) {
      await storeExternal(ref, store, desc);
      inRegistry = false;
    } else {
      try {
        // The writer verifies size and digest at commit; a mismatch leaves nothing behind.
        await store.writeBlob(capped(res.body, desc.size, 'the registry'), { digest: desc.digest, size: desc.size });
      } catch (e) {
        res.body.destroy();
        throw registryError(ref, `blob ${desc.digest} did not arrive intact: ${(e as Error).message}`);
      }
    }
  }
  if (inRegistry) await store.recordSource(desc.digest, ref.domain, ref.repository);
}

/** A blob missing from the registry, from its descriptor's URLs; one error naming them all if none serves it. */
async function storeExternal(ref: ImageReference, store: ContentStore, desc: Descriptor): Promise<void> {
  const what = `${isNondistributable(desc.mediaType) ? 'non-distributable layer' : 'blob'} ${desc.digest} (${desc.mediaType})`;
  if (desc.urls === undefined || desc.urls.length === 0) {
    throw registryError(ref, `${what} is not in the registry`, 'the image is incomplete in this registry; push it again');
  }
  const { request } = await loadUndici();
  const got = await fetchFromURLs(desc, store, request);
  if (!got.stored) {
    throw registryError(
      ref,
      `${what} is not in the registry, and none of its URLs served it: ${got.failures.join('; ')}`,
      `each URL must serve exactly ${desc.size} bytes with digest ${desc.digest}`,
    );
  }
}

/** An image resolved in its registry: manifest and config in the store, layers fetched on demand. */
export interface RemoteImage extends PulledImage {
  /** Copies one of its layers into the store, verified, unless it is there (as a pull does). */
  fetchLayer(layer: Descriptor): Promise<void>;
}

/**
 * Resolves `ref` for `platform` in its registry: its manifest (through an index) and config go
 * into `store`; its layers only when fetchLayer asks, over the same session (credentials and
 * token). Every layer is recorded as held by the repository at once, so that a push to the
 * same registry mounts one that was never fetched.
 */
export async function resolveImage(
  ref: ImageReference,
  platform: PlatformSpec,
  store: ContentStore,
  opts: ConnectionOptions & { credentials?: Credentials } = {},
): Promise<RemoteImage> {
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
  const stored = await store.writeBlob(m.bytes, { digest: m.digest, size: m.bytes.length });
  await storeBlob(s, store, ref, manifest.config);
  for (const layer of manifest.layers) if (!isNondistributable(layer.mediaType)) await store.recordSource(layer.digest, ref.domain, ref.repository);
  return {
    manifest: { mediaType: m.mediaType, digest: stored.digest, size: stored.size },
    config: manifest.config,
    layers: manifest.layers,
    fetchLayer: (layer) => storeBlob(s, store, ref, layer),
  };
}

/** Pull `ref` for `platform` into `store`: resolved, then every layer fetched. */
export async function pullImage(
  ref: ImageReference,
  platform: PlatformSpec,
  store: ContentStore,
  opts: ConnectionOptions & { credentials?: Credentials } = {},
): Promise<PulledImage> {
  const image = await resolveImage(ref, platform, store, opts);
  // Layers arrive concurrently (6 at once, as skopeo does: measured a little faster than 4
  // on the 10-layer bench image), each streamed straight into the store.
  const queue = [...image.layers];
  const workers = Array.from({ length: Math.min(6, queue.length) }, async () => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) await image.fetchLayer(d);
  });
  await Promise.all(workers);
  return { manifest: image.manifest, config: image.config, layers: image.layers };
}
