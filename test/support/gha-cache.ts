/**
 * The GitHub Actions cache service (v2) as runners reach it today, on a loopback port, in front
 * of azurite for the blobs: JSON Twirp over HTTP POST at
 * `$ACTIONS_RESULTS_URL/twirp/github.actions.results.api.v1.CacheService/{CreateCacheEntry,
 * FinalizeCacheEntryUpload,GetCacheEntryDownloadURL}`, authorized by `$ACTIONS_RUNTIME_TOKEN`.
 *
 * What it models, as the service behaves:
 * - The runtime token is a JWT whose `ac` claim lists the cache scopes of the run (a JSON string
 *   of `[{Scope, Permission}]`, permission bits read 1, write 2), the run's own ref first, then
 *   the refs it may read from (a pull request's base branch, the default branch).
 * - An entry is (scope, key, version). CreateCacheEntry reserves it in the first writable scope
 *   and answers a signed upload URL of a block blob; a reservation or entry that exists already
 *   is refused with Twirp `already_exists` (HTTP 409). A token without a writable scope gets
 *   `ok: false` and the message "cache write denied: token has no writable scopes" (HTTP 200),
 *   as pull requests from forks do.
 * - FinalizeCacheEntryUpload makes the reservation visible once its blob holds `size_bytes`.
 * - GetCacheEntryDownloadURL looks through the readable scopes in order; in each, the exact key,
 *   then the newest entry whose key starts with the key, then with each restore key in turn;
 *   the version must be equal. A miss is `ok: false` (HTTP 200).
 * - Replies name fields as the proto does (snake_case), emit every field, and write int64 as a
 *   JSON string (proto3 JSON). Errors are Twirp's `{code, msg}` with its HTTP status.
 * Faults to inject: the next N requests answered 429 with `Retry-After`, or 5xx; download URLs
 * that have already expired (azurite then refuses them with 403). `latencyMs` delays every answer;
 * `blobEndpoint` makes the signed URLs point elsewhere than at azurite (a proxy in front of it).
 * Eviction is by hand (`evict`). Not modelled: protobuf-encoded requests (refused as Twirp does
 * an unknown content type), quotas, what the service answers a token that may not read (here: a miss).
 *
 * The benchmarks run it too (bench/cache-export.ts), from dist/: the Azure SDK, a development
 * dependency, is therefore loaded when the service starts, not imported at the top.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Azurite } from './azurite.js';

const SERVICE = 'github.actions.results.api.v1.CacheService';
const CONTAINER = 'actions-cache';

/** The service's three RPCs. */
export type CacheRpc = 'CreateCacheEntry' | 'FinalizeCacheEntryUpload' | 'GetCacheEntryDownloadURL';

export const READ = 1;
export const WRITE = 2;

/** One cache scope of a runtime token: a ref and its permission bits (READ | WRITE). */
export interface ScopeGrant {
  readonly scope: string;
  readonly permission: number;
}

/** A fault for the next requests: 429 with a `Retry-After` in seconds, or a 5xx. */
export type Fault = { readonly status: 429; readonly retryAfter: number } | { readonly status: 500 | 502 | 503 | 504 };

/** One request as it was answered. */
export interface TwirpCall {
  /** The RPC, e.g. `CreateCacheEntry`; the path when it named none. */
  readonly method: string;
  readonly status: number;
  /** The Twirp error code, when it failed. */
  readonly code?: string;
  /** The request's `key`, when it was read (a fault answers before reading it). */
  readonly key?: string;
}

export interface CacheEntry {
  readonly id: number;
  readonly scope: string;
  readonly key: string;
  readonly version: string;
  /** The blob's name in azurite's container. */
  readonly blob: string;
  /** Visible to lookups (finalized); `size` is then the blob's size. */
  readonly finalized: boolean;
  readonly size?: number;
}

export interface GhaCacheService {
  /** The value of `ACTIONS_RESULTS_URL` (ends with `/`, as on runners). */
  readonly url: string;
  /** A runtime token (`ACTIONS_RUNTIME_TOKEN`) granting these scopes, own ref first. */
  token(grants: readonly ScopeGrant[]): string;
  /** Every request served, in order. */
  readonly calls: readonly TwirpCall[];
  /** The reservations and entries, oldest first. */
  entries(): readonly CacheEntry[];
  /** Answers the next `count` requests (of `method` only, when given) with `fault`. */
  failNext(count: number, fault: Fault, method?: CacheRpc): void;
  /** Drops the faults still pending (a fault given for `Infinity` requests lasts until then). */
  clearFaults(): void;
  /** Removes an entry and its blob, as the service evicts entries past its size quota. */
  evict(key: string): Promise<void>;
  /** From now on, download URLs are signed with an expiry in the past (or again valid). */
  expireDownloadUrls(expired: boolean): void;
  close(): Promise<void>;
}

/** Twirp's error codes used here and the HTTP status each one travels with. */
const TWIRP_STATUS = {
  malformed: 400,
  invalid_argument: 400,
  unauthenticated: 401,
  bad_route: 404,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  resource_exhausted: 429,
  internal: 500,
  unavailable: 503,
} as const;
type TwirpCode = keyof typeof TWIRP_STATUS;

class TwirpError extends Error {
  constructor(
    readonly code: TwirpCode,
    message: string,
  ) {
    super(message);
  }
}

interface Entry {
  id: number;
  scope: string;
  key: string;
  version: string;
  blob: string;
  finalized: boolean;
  size?: number;
}

type Body = Readonly<Record<string, unknown>>;

/** A string field, by its proto name or its lowerCamel JSON name (Twirp accepts both). */
function stringField(body: Body, name: string, camel = name): string {
  const v = body[name] ?? body[camel];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new TwirpError('malformed', `${name} must be a string`);
  return v;
}

function stringsField(body: Body, name: string, camel: string): string[] {
  const v = body[name] ?? body[camel];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new TwirpError('malformed', `${name} must be a list of strings`);
  return v as string[];
}

/** An int64 field: proto3 JSON writes it as a string, and readers take a number too. */
function int64Field(body: Body, name: string, camel: string): number {
  const v = body[name] ?? body[camel];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TwirpError('malformed', `${name} must be an integer`);
  return n;
}

function requireKeyAndVersion(key: string, version: string): void {
  if (key === '') throw new TwirpError('invalid_argument', 'key is required');
  if (version === '') throw new TwirpError('invalid_argument', 'version is required');
}

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startGhaCacheService(
  blobs: Azurite,
  opts: { readonly latencyMs?: number; /** The account's blob endpoint as signed URLs name it (default azurite's own). */ readonly blobEndpoint?: string } = {},
): Promise<GhaCacheService> {
  const { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, RestError, SASProtocol, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const credential = new StorageSharedKeyCredential(blobs.accountName, blobs.accountKey);
  const container = new BlobServiceClient(blobs.blobEndpoint, credential).getContainerClient(CONTAINER);
  const publicContainer = `${opts.blobEndpoint ?? blobs.blobEndpoint}/${CONTAINER}`;
  await container.createIfNotExists();

  const secret = randomBytes(32);
  const calls: TwirpCall[] = [];
  const entries: Entry[] = [];
  const faults: { count: number; fault: Fault; method?: CacheRpc }[] = [];
  let expired = false;
  let nextId = 1;

  const token = (grants: readonly ScopeGrant[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const ac = JSON.stringify(grants.map((g) => ({ Scope: g.scope, Permission: g.permission })));
    const signed = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))}.${base64url(JSON.stringify({ ac, iat: now, nbf: now - 1, exp: now + 3600 }))}`;
    return `${signed}.${base64url(createHmac('sha256', secret).update(signed).digest())}`;
  };

  /** The scopes of a request's bearer token, or unauthenticated. */
  const grantsOf = (req: IncomingMessage): ScopeGrant[] => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const parts = m?.[1]?.split('.');
    if (parts?.length !== 3) throw new TwirpError('unauthenticated', 'a bearer token is required');
    const [header, claims, signature] = parts as [string, string, string];
    const expected = createHmac('sha256', secret).update(`${header}.${claims}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TwirpError('unauthenticated', 'the token is not valid');
    // The signature is this service's, so token() made it: the claims are well-formed.
    const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { ac: string; exp: number };
    if (decoded.exp < Date.now() / 1000) throw new TwirpError('unauthenticated', 'the token has expired');
    const ac = JSON.parse(decoded.ac) as { Scope: string; Permission: number }[];
    return ac.map((g) => ({ scope: g.Scope, permission: g.Permission }));
  };

  const writeScope = (grants: readonly ScopeGrant[]) => grants.find((g) => (g.permission & WRITE) !== 0)?.scope;

  /** A SAS URL of one blob, valid for an hour, or expired an hour ago. */
  const signedUrl = (blob: string, permissions: string, past = false): string => {
    const now = Date.now();
    const startsOn = new Date(past ? now - 2 * 3600_000 : now - 5 * 60_000);
    const expiresOn = new Date(past ? now - 3600_000 : now + 3600_000);
    const sas = generateBlobSASQueryParameters(
      { containerName: CONTAINER, blobName: blob, permissions: BlobSASPermissions.parse(permissions), startsOn, expiresOn, protocol: SASProtocol.HttpsAndHttp },
      credential,
    );
    return `${publicContainer}/${encodeURIComponent(blob)}?${sas.toString()}`;
  };

  const writeDenied = { ok: false, message: 'cache write denied: token has no writable scopes' };

  const createCacheEntry = (grants: readonly ScopeGrant[], body: Body) => {
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    requireKeyAndVersion(key, version);
    const scope = writeScope(grants);
    if (scope === undefined) return { ...writeDenied, signed_upload_url: '' };
    if (entries.some((e) => e.scope === scope && e.key === key && e.version === version)) {
      throw new TwirpError('already_exists', 'cache entry with the same key, version, and scope already exists');
    }
    const id = nextId++;
    const blob = `${id}-${randomBytes(8).toString('hex')}`;
    entries.push({ id, scope, key, version, blob, finalized: false });
    return { ok: true, signed_upload_url: signedUrl(blob, 'cw'), message: '' };
  };

  const finalizeCacheEntryUpload = async (grants: readonly ScopeGrant[], body: Body) => {
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    const size = int64Field(body, 'size_bytes', 'sizeBytes');
    requireKeyAndVersion(key, version);
    const scope = writeScope(grants);
    if (scope === undefined) return { ...writeDenied, entry_id: '0' };
    const entry = entries.find((e) => e.scope === scope && e.key === key && e.version === version);
    if (entry === undefined) throw new TwirpError('not_found', 'cache entry not found');
    if (entry.finalized) throw new TwirpError('already_exists', 'cache entry with the same key, version, and scope already exists');
    let stored: number | undefined;
    try {
      stored = (await container.getBlockBlobClient(entry.blob).getProperties()).contentLength;
    } catch (e) {
      if (!(e instanceof RestError && e.statusCode === 404)) throw e;
    }
    if (stored === undefined) throw new TwirpError('failed_precondition', 'the cache entry was not uploaded');
    if (stored !== size) throw new TwirpError('failed_precondition', `the uploaded cache entry holds ${stored} bytes, not ${size}`);
    entry.finalized = true;
    entry.size = size;
    return { ok: true, entry_id: String(entry.id), message: '' };
  };

  const getCacheEntryDownloadURL = (grants: readonly ScopeGrant[], body: Body) => {
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    const restoreKeys = stringsField(body, 'restore_keys', 'restoreKeys');
    requireKeyAndVersion(key, version);
    for (const grant of grants) {
      if ((grant.permission & READ) === 0) continue;
      const visible = entries.filter((e) => e.finalized && e.scope === grant.scope && e.version === version);
      const newestWithPrefix = (prefix: string) => visible.filter((e) => e.key.startsWith(prefix)).at(-1);
      const hit = visible.find((e) => e.key === key) ?? [key, ...restoreKeys].map(newestWithPrefix).find((e) => e !== undefined);
      if (hit !== undefined) return { ok: true, signed_download_url: signedUrl(hit.blob, 'r', expired), matched_key: hit.key };
    }
    return { ok: false, signed_download_url: '', matched_key: '' };
  };

  const rpcs: Record<CacheRpc, (grants: readonly ScopeGrant[], body: Body) => object | Promise<object>> = {
    CreateCacheEntry: createCacheEntry,
    FinalizeCacheEntryUpload: finalizeCacheEntryUpload,
    GetCacheEntryDownloadURL: getCacheEntryDownloadURL,
  };

  const readBody = async (req: IncomingMessage): Promise<Body> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new TwirpError('malformed', 'the json request could not be decoded');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TwirpError('malformed', 'the request is not a JSON object');
    return parsed as Body;
  };

  /** The fault for this request, if one is pending. */
  const takeFault = (method: CacheRpc): Fault | undefined => {
    const i = faults.findIndex((f) => f.method === undefined || f.method === method);
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (--f.count <= 0) faults.splice(i, 1);
    return f.fault;
  };

  const sendFault = (res: ServerResponse, fault: Fault): { status: number; code?: string } => {
    if (fault.status === 429) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(fault.retryAfter) });
      res.end(JSON.stringify({ code: 'resource_exhausted', msg: 'too many requests' }));
      return { status: 429, code: 'resource_exhausted' };
    }
    if (fault.status === 500 || fault.status === 503) {
      const code = fault.status === 500 ? 'internal' : 'unavailable';
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code, msg: fault.status === 500 ? 'internal error' : 'service unavailable' }));
      return { status: fault.status, code };
    }
    // 502 and 504 come from the proxy in front of the service, not from Twirp: a plain body.
    res.writeHead(fault.status, { 'content-type': 'text/plain' });
    res.end(fault.status === 502 ? 'Bad Gateway' : 'Gateway Timeout');
    return { status: fault.status };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://loopback').pathname;
    const prefix = `/twirp/${SERVICE}/`;
    const method = path.startsWith(prefix) ? path.slice(prefix.length) : path;
    if (opts.latencyMs !== undefined && opts.latencyMs > 0) await new Promise((r) => setTimeout(r, opts.latencyMs));
    try {
      const name = Object.hasOwn(rpcs, method) ? (method as CacheRpc) : undefined;
      if (name === undefined || req.method !== 'POST') throw new TwirpError('bad_route', `no handler for ${req.method} ${path}`);
      const rpc = rpcs[name];
      const fault = takeFault(name);
      if (fault !== undefined) {
        req.resume();
        calls.push({ method, ...sendFault(res, fault) });
        return;
      }
      const grants = grantsOf(req);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (type !== 'application/json') throw new TwirpError('bad_route', `unexpected Content-Type: ${JSON.stringify(type)}`);
      const body = await readBody(req);
      const reply = await rpc(grants, body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
      calls.push({ method, status: 200, ...(typeof body['key'] === 'string' ? { key: body['key'] } : {}) });
    } catch (e) {
      const err = e instanceof TwirpError ? e : new TwirpError('internal', e instanceof Error ? e.message : String(e));
      req.resume();
      res.writeHead(TWIRP_STATUS[err.code], { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: err.code, msg: err.message }));
      calls.push({ method, status: TWIRP_STATUS[err.code], code: err.code });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    token,
    calls,
    entries: () => entries.map((e) => ({ ...e })),
    failNext: (count, fault, method) => {
      if (count > 0) faults.push({ count, fault, ...(method === undefined ? {} : { method }) });
    },
    clearFaults: () => void faults.splice(0),
    expireDownloadUrls: (on) => (expired = on),
    evict: async (key) => {
      const i = entries.findIndex((e) => e.key === key);
      if (i < 0) throw new Error(`no cache entry ${key}`);
      const [gone] = entries.splice(i, 1);
      await container.getBlockBlobClient(gone!.blob).deleteIfExists();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
