/**
 * Blobs from elsewhere than the registry: the `urls` of a descriptor (image-spec
 * descriptor.md), which non-distributable ("foreign") layers carry because the registry need
 * not hold them. Each URL is tried in order, http and https only, with no credentials — the
 * registry's authorization, bearer token and CA belong to the registry alone — and the blob is
 * verified while it streams in (no more bytes than the size, then size and digest at commit),
 * exactly as a blob of the registry; nothing unverified becomes visible. A URL that fails or
 * serves other bytes gives way to the next.
 */
import { Readable } from 'node:stream';
import type { ContentIngester, Descriptor } from '../content/index.js';

type Request = typeof import('undici').request;

/**
 * `body` read lazily (nothing flows before the consumer reads), failing as soon as more than
 * `limit` bytes come: a source that sends too much is cut off, not written to disk to the end.
 */
export function capped(body: AsyncIterable<Buffer>, limit: number, what: string): Readable {
  async function* upTo(): AsyncGenerator<Buffer> {
    let seen = 0;
    for await (const chunk of body) {
      seen += chunk.length;
      if (seen > limit) throw new Error(`${what} sent more than the ${limit} bytes expected`);
      yield chunk;
    }
  }
  return Readable.from(upTo());
}

/** A URL as messages show it: without user or password. */
export function shownURL(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return raw;
  }
}

const REDIRECTS = [301, 302, 303, 307, 308];

/** What became of each URL tried, in order; `stored` when one of them served the blob. */
export interface ExternalFetch {
  readonly stored: boolean;
  readonly failures: readonly string[];
}

/** Streams the blob of `desc` from the first of its `urls` that serves it intact into `store`. */
export async function fetchFromURLs(desc: Descriptor, store: ContentIngester, request: Request): Promise<ExternalFetch> {
  const failures: string[] = [];
  for (const raw of desc.urls ?? []) {
    const failure = await tryURL(raw, desc, store, request);
    if (failure === undefined) return { stored: true, failures };
    failures.push(`${shownURL(raw)}: ${failure}`);
  }
  return { stored: false, failures };
}

/** undefined when the blob came in; else why not. */
async function tryURL(raw: string, desc: Descriptor, store: ContentIngester, request: Request): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid URL';
  }
  for (let redirects = 0; ; redirects++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} URLs are not fetched (http and https only)`;
    if (url.username !== '' || url.password !== '') return 'URLs with credentials are not fetched';
    let res;
    try {
      // No authorization header, no dispatcher of the registry: nothing of it goes here.
      res = await request(url, { method: 'GET', headers: { accept: '*/*' } });
    } catch (e) {
      return `cannot reach ${url.origin}: ${(e as Error).message}`;
    }
    if (REDIRECTS.includes(res.statusCode) && res.headers.location !== undefined) {
      await res.body.dump();
      if (redirects >= 5) return 'too many redirects';
      try {
        url = new URL(String(res.headers.location), url);
      } catch {
        return 'redirected to an invalid URL';
      }
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      return `HTTP ${res.statusCode}`;
    }
    const length = res.headers['content-length'];
    if (length !== undefined && Number(length) !== desc.size) {
      await res.body.dump();
      return `it serves ${String(length)} bytes, the layer has ${desc.size}`;
    }
    try {
      // The store verifies size and digest at commit; a mismatch leaves nothing behind.
      await store.writeBlob(capped(res.body, desc.size, 'the URL'), { digest: desc.digest, size: desc.size });
      return undefined;
    } catch (e) {
      res.body.destroy();
      return (e as Error).message;
    }
  }
}
