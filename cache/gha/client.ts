/**
 * A small client of the GitHub Actions cache service (v2), on undici: JSON Twirp calls of
 * `CreateCacheEntry`, `FinalizeCacheEntryUpload` and `GetCacheEntryDownloadURL` at
 * `$ACTIONS_RESULTS_URL` with the bearer `$ACTIONS_RUNTIME_TOKEN`, and the blobs through the
 * signed Azure Blob URLs the service answers (a block blob PUT; a large one as blocks and a
 * block list, as the Azure Blob REST API defines them). `@actions/cache` only stores tar
 * archives of paths, hence this client.
 *
 * Retries: a 429 is retried after its `Retry-After` and a 5xx (or a failed connection) after a
 * growing pause, a few times, never past the deadline (`timeout=`).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BuildError } from '../../errors/index.js';
import { loadUndici } from '../../registry/index.js';

const SERVICE = 'twirp/github.actions.results.api.v1.CacheService/';
/** Blobs up to this size go in one PUT; larger ones as blocks of this size. */
const BLOCK_SIZE = 32 * 1024 * 1024;
/** Azure's REST API version the blob requests speak. */
const AZURE_VERSION = '2020-10-02';
const MAX_5XX_RETRIES = 4;

export interface GhaClientOptions {
  /** `ACTIONS_RESULTS_URL` (or `url=`). */
  readonly url: string;
  /** `ACTIONS_RUNTIME_TOKEN` (or `token=`). */
  readonly token: string;
  /** How long one operation may take, retries included. */
  readonly timeoutMs: number;
  /** The error code of failures (CACHE_EXPORT or CACHE_IMPORT). */
  readonly code: 'CACHE_EXPORT' | 'CACHE_IMPORT';
  /** The block size of uploads (default 32 MiB); a blob no larger goes in one PUT. */
  readonly blockSize?: number;
}

/** The answer to CreateCacheEntry. */
export type Reservation = { readonly uploadUrl: string } | { readonly exists: true } | { readonly denied: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Retry-After header in milliseconds (seconds or an HTTP date), undefined when absent. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class GhaClient {
  /** Requests sent (each try counts), for the export's summary. */
  requests = 0;

  constructor(private readonly opts: GhaClientOptions) {}

  private fail(message: string, cause?: unknown): BuildError {
    return new BuildError(this.opts.code, message, {}, cause === undefined ? undefined : { cause });
  }

  /**
   * Sends a request (made anew for each try) until it is answered with something else than a
   * 429 or a 5xx, within the deadline. The answer's body is for the caller to consume.
   */
  private async send(what: string, make: () => Dispatcher.RequestOptions & { origin: string }): Promise<Dispatcher.ResponseData> {
    const { request } = await loadUndici();
    const deadline = Date.now() + this.opts.timeoutMs;
    let failures = 0;
    for (;;) {
      let res: Dispatcher.ResponseData | undefined;
      let error: unknown;
      try {
        this.requests++;
        const { origin, ...options } = make();
        res = await request(origin, { ...options, headersTimeout: this.opts.timeoutMs, bodyTimeout: this.opts.timeoutMs });
      } catch (e) {
        error = e;
      }
      let wait: number;
      if (res !== undefined && res.statusCode === 429) {
        await res.body.dump();
        wait = retryAfterMs(res.headers['retry-after']) ?? 1000;
        if (Date.now() + wait > deadline) throw this.fail(`${what}: the cache service answered 429 (too many requests) and asks to wait ${Math.ceil(wait / 1000)} s, past the timeout`);
      } else if (res === undefined || res.statusCode >= 500) {
        if (res !== undefined) await res.body.dump();
        failures++;
        const reason = res === undefined ? (error as Error).message : `HTTP ${res.statusCode}`;
        if (failures > MAX_5XX_RETRIES) throw this.fail(`${what}: ${reason} (after ${failures} tries)`, error);
        wait = 250 * 2 ** (failures - 1);
        if (Date.now() + wait > deadline) throw this.fail(`${what}: ${reason} (timed out retrying)`, error);
      } else {
        return res;
      }
      await sleep(wait);
    }
  }

  /** One Twirp call: its JSON reply, or the Twirp error (code and message) it answered. */
  private async rpc(method: string, body: object): Promise<{ ok: Record<string, unknown> } | { status: number; code: string; msg: string }> {
    const target = new URL(SERVICE + method, this.opts.url.endsWith('/') ? this.opts.url : `${this.opts.url}/`);
    const payload = JSON.stringify(body);
    const res = await this.send(`${method}`, () => ({
      origin: target.origin,
      path: target.pathname + target.search,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.opts.token}` },
      body: payload,
    }));
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (res.statusCode === 200 && json !== undefined) return { ok: obj };
    return { status: res.statusCode, code: String(obj['code'] ?? ''), msg: String(obj['msg'] ?? text.slice(0, 200)) };
  }

  private rpcError(method: string, r: { status: number; code: string; msg: string }): BuildError {
    return this.fail(`the cache service refused ${method}: HTTP ${r.status}${r.code === '' ? '' : ` ${r.code}`}: ${r.msg}`);
  }

  /** Reserves an entry; `exists` when the key and version are taken, `denied` for a read-only token. */
  async reserve(key: string, version: string): Promise<Reservation> {
    const r = await this.rpc('CreateCacheEntry', { key, version });
    if ('status' in r) {
      if (r.status === 409 || r.code === 'already_exists') return { exists: true };
      throw this.rpcError('CreateCacheEntry', r);
    }
    const url = r.ok['signed_upload_url'] ?? r.ok['signedUploadUrl'];
    if (r.ok['ok'] !== true || typeof url !== 'string' || url === '') return { denied: String(r.ok['message'] ?? 'the cache service did not reserve the entry') };
    return { uploadUrl: url };
  }

  async finalize(key: string, version: string, size: number): Promise<void> {
    const r = await this.rpc('FinalizeCacheEntryUpload', { key, version, size_bytes: String(size) });
    if ('status' in r) throw this.rpcError('FinalizeCacheEntryUpload', r);
    if (r.ok['ok'] !== true) throw this.fail(`the cache service did not finalize ${key}: ${String(r.ok['message'] ?? '')}`);
  }

  /** The download URL of the entry `key` (exact, else the newest whose key starts with it). */
  async lookup(key: string, version: string): Promise<{ url: string; matchedKey: string } | undefined> {
    const r = await this.rpc('GetCacheEntryDownloadURL', { key, version, restore_keys: [] });
    if ('status' in r) {
      if (r.status === 404 || r.code === 'not_found') return undefined;
      throw this.rpcError('GetCacheEntryDownloadURL', r);
    }
    const url = r.ok['signed_download_url'] ?? r.ok['signedDownloadUrl'];
    if (r.ok['ok'] !== true || typeof url !== 'string' || url === '') return undefined;
    const matched = r.ok['matched_key'] ?? r.ok['matchedKey'];
    return { url, matchedKey: typeof matched === 'string' ? matched : key };
  }

  /** A blob request on a signed URL, `query` added to the URL's own. */
  private async blobRequest(what: string, signedUrl: string, query: Record<string, string>, init: { method: 'PUT' | 'GET'; headers?: Record<string, string>; body?: () => Dispatcher.DispatchOptions['body'] }) {
    const u = new URL(signedUrl);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return this.send(what, () => ({
      origin: u.origin,
      path: u.pathname + u.search,
      method: init.method,
      headers: { 'x-ms-version': AZURE_VERSION, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body() }),
    }));
  }

  private async expectOk(what: string, res: Dispatcher.ResponseData): Promise<void> {
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      return;
    }
    const text = (await res.body.text()).slice(0, 300);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw this.fail(`${what}: the blob store answered HTTP ${res.statusCode}${code === undefined ? '' : ` ${code}`}`);
  }

  /** Uploads `size` bytes of the file at `path` to a signed block blob URL. */
  async upload(signedUrl: string, path: string, size: number): Promise<void> {
    const blockSize = this.opts.blockSize ?? BLOCK_SIZE;
    if (size <= blockSize) {
      const res = await this.blobRequest('uploading a cache blob', signedUrl, {}, {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': String(size), 'content-type': 'application/octet-stream' },
        body: () => createReadStream(path),
      });
      return this.expectOk('uploading a cache blob', res);
    }
    const ids: string[] = [];
    for (let offset = 0, n = 0; offset < size; offset += blockSize, n++) {
      // Block ids of one blob must all have the same length.
      const id = Buffer.from(`block-${String(n).padStart(8, '0')}`).toString('base64');
      const end = Math.min(size, offset + blockSize);
      const res = await this.blobRequest('uploading a block of a cache blob', signedUrl, { comp: 'block', blockid: id }, {
        method: 'PUT',
        headers: { 'content-length': String(end - offset) },
        body: () => createReadStream(path, { start: offset, end: end - 1 }),
      });
      await this.expectOk('uploading a block of a cache blob', res);
      ids.push(id);
    }
    const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
    const res = await this.blobRequest('committing the block list of a cache blob', signedUrl, { comp: 'blocklist' }, {
      method: 'PUT',
      headers: { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(list)) },
      body: () => list,
    });
    return this.expectOk('committing the block list of a cache blob', res);
  }

  /** Uploads bytes held in memory (the index entry). */
  async uploadBytes(signedUrl: string, bytes: Buffer): Promise<void> {
    const res = await this.blobRequest('uploading the cache index', signedUrl, {}, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': String(bytes.length), 'content-type': 'application/octet-stream' },
      body: () => bytes,
    });
    return this.expectOk('uploading the cache index', res);
  }

  /**
   * A blob's bytes from a signed download URL. A URL the store refuses (expired, revoked) is
   * an error: the cache is not trusted.
   */
  async download(signedUrl: string): Promise<Readable> {
    const res = await this.blobRequest('downloading a cache blob', signedUrl, {}, { method: 'GET' });
    if (res.statusCode !== 200) {
      await this.expectOk('downloading a cache blob', res);
    }
    return Readable.from(res.body);
  }
}
