// Blobs from a descriptor's urls, served by a node:http server on loopback into a real content
// store: order, verification, redirects, schemes, and that no credentials go there.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openContentStore, sha256Of, type ContentStore, type Descriptor } from '../content/index.js';
import { MediaType } from '../oci/index.js';
import { fetchFromURLs, shownURL } from './external.js';

const blob = Buffer.from('the layer bytes, as the vendor serves them\n'.repeat(200));
const desc: Descriptor = { mediaType: MediaType.ociNondistributableGzip, digest: sha256Of(blob), size: blob.length };

let dir: string;
let store: ContentStore;
let server: Server;
let base: string;
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-external-'));
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    switch (req.url) {
      case '/good':
        res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
        return;
      case '/wrong': {
        // The right size, other bytes.
        const other = Buffer.from(blob);
        other[0] = other[0]! ^ 1;
        res.writeHead(200, { 'content-length': String(other.length) }).end(other);
        return;
      }
      case '/endless':
        // No length announced, and more bytes than the layer has.
        res.writeHead(200);
        res.write(blob);
        res.end(blob);
        return;
      case '/moved':
        res.writeHead(302, { location: '/good' }).end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  seen.length = 0;
  store = await openContentStore(join(dir, `content-${Math.random().toString(36).slice(2)}`));
});

describe('fetchFromURLs', () => {
  it('tries the URLs in order until one serves the blob intact', async () => {
    const got = await fetchFromURLs({ ...desc, urls: [`${base}/missing`, `${base}/wrong`, `${base}/endless`, `${base}/good`, `${base}/never`] }, store, request);
    expect(got.stored).toBe(true);
    expect(got.failures).toHaveLength(3);
    expect(got.failures[0]).toBe(`${base}/missing: HTTP 404`);
    expect(got.failures[1]).toMatch(new RegExp(`^${base}/wrong: .*expected ${desc.digest}`));
    expect(got.failures[2]).toContain(`the URL sent more than the ${blob.length} bytes expected`);
    expect(seen.map((s) => s.path)).toEqual(['/missing', '/wrong', '/endless', '/good']);
    expect(Buffer.from(await store.readBytes(desc.digest)).equals(blob)).toBe(true);
  });

  it('stores nothing when no URL serves the blob', async () => {
    const got = await fetchFromURLs({ ...desc, urls: [`${base}/wrong`, `${base}/endless`] }, store, request);
    expect(got.stored).toBe(false);
    expect(got.failures).toHaveLength(2);
    expect(await store.has(desc.digest)).toBe(false);
    const left = [];
    for await (const b of store.walk()) left.push(b.digest);
    expect(left).toEqual([]);
  });

  it('follows redirects and sends no authorization anywhere', async () => {
    const got = await fetchFromURLs({ ...desc, urls: [`${base}/moved`] }, store, request);
    expect(got).toEqual({ stored: true, failures: [] });
    expect(seen.map((s) => s.path)).toEqual(['/moved', '/good']);
    for (const s of seen) {
      expect(s.headers.authorization).toBeUndefined();
      expect(s.headers.cookie).toBeUndefined();
    }
  });

  it('fetches http and https only, and no URL holding credentials', async () => {
    const withUser = `http://someone:secret@127.0.0.1:${new URL(base).port}/good`;
    const got = await fetchFromURLs({ ...desc, urls: ['file:///etc/passwd', 'ftp://127.0.0.1/layer', 'not a url', withUser] }, store, request);
    expect(got.stored).toBe(false);
    expect(got.failures).toEqual([
      'file:///etc/passwd: file: URLs are not fetched (http and https only)',
      'ftp://127.0.0.1/layer: ftp: URLs are not fetched (http and https only)',
      'not a url: not a valid URL',
      `${base}/good: URLs with credentials are not fetched`,
    ]);
    expect(seen).toEqual([]);
    expect(shownURL(withUser)).not.toContain('secret');
  });
});
