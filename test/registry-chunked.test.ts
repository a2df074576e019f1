// Chunked uploads to a real registry: with a small chunk size (TSBUILD_PUSH_CHUNK_SIZE) every
// layer goes as PATCH chunks and a closing PUT; skopeo copies the result out, checking every
// digest. A chunk that meets a 503 resumes where the registry says it got to; a chunk cut
// midway still ends in a whole image. Faults come from a proxy in front of the registry.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { runAsync, tsbuildAsync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startFaultProxy, type Fault, type FaultProxy, type Seen } from './support/proxy.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-registry-chunked-'));
const root = join(work, 'root');
const CHUNK = 64 * 1024;
let registry: TestRegistry;

const push = (target: string) => tsbuildAsync(['push', '--root', root, 'local/chunky:1', target], { env: { TSBUILD_PUSH_CHUNK_SIZE: String(CHUNK) } }).done;

/** skopeo copies the image into an OCI layout, verifying every blob; the layout's path. */
async function copyOut(name: string): Promise<string> {
  const layout = mkdtempSync(join(work, 'layout-'));
  const r = await runAsync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${name}`, `oci:${layout}:1`]);
  expect(r.status, r.stderr).toBe(0);
  return layout;
}

/** A fault for the second PATCH of one upload (its first chunk went through), once. */
function secondChunkMeets(fault: Fault) {
  const patches = new Map<string, number>();
  let done = false;
  return (req: { method?: string; url?: string }): Fault => {
    if (done || req.method !== 'PATCH') return 'pass';
    const upload = new URL(req.url ?? '/', 'http://x').pathname;
    const n = (patches.get(upload) ?? 0) + 1;
    patches.set(upload, n);
    if (n !== 2) return 'pass';
    done = true;
    return fault;
  };
}

const uploadsStarted = (seen: readonly Seen[]) => seen.filter((s) => s.method === 'POST' && /\/blobs\/uploads\/$/.test(new URL(s.url, 'http://x').pathname)).length;
const blobsMissing = (seen: readonly Seen[]) => seen.filter((s) => s.method === 'HEAD' && s.url.includes('/blobs/') && s.status === 404).length;

describe.skipIf(!isRoot && !isCI)('chunked uploads', () => {
  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    const base = join(work, 'base');
    mkdirSync(base);
    await makeBusyboxRootfs(join(base, 'rootfs'));
    // Random bytes do not compress: this layer is some 400 kB, seven chunks.
    writeFileSync(join(base, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nRUN head -c 400000 /dev/urandom > /random\n');
    const r = await tsbuildAsync(['build', '--root', root, '--progress', 'quiet', '-t', 'local/chunky:1', base]).done;
    expect(r.status, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('sends layers above the chunk size as PATCH chunks and a closing PUT', async () => {
    const target = `${registry.host}/chunked/app:1`;
    const mark = registry.requests().length;
    const r = await push(target);
    expect(r.status, r.stderr).toBe(0);
    const uploads = registry.requests().slice(mark).filter((q) => q.uri.startsWith('/v2/chunked/app/blobs/uploads/'));
    const patches = uploads.filter((q) => q.method === 'PATCH');
    expect(patches.length).toBeGreaterThanOrEqual(Math.ceil(400_000 / CHUNK));
    expect(patches.every((q) => q.status === 202)).toBe(true);
    // Each upload ends with one PUT carrying the digest: two layers and the config.
    expect(uploads.filter((q) => q.method === 'PUT' && q.uri.includes('digest=sha256%3A') && q.status === 201)).toHaveLength(3);
    await copyOut(target);
  });

  describe('through a proxy that fails one chunk', () => {
    let proxy: FaultProxy | undefined;
    afterAll(async () => proxy?.close());

    it('a chunk answered 503 resumes where the registry says the upload got to', async () => {
      proxy = await startFaultProxy(registry.host, secondChunkMeets('unavailable'));
      const target = `${proxy.host}/chunked/resumed:1`;
      const r = await push(target);
      expect(r.status, r.stderr).toBe(0);
      const faulted = proxy.seen.findIndex((s) => s.fault === 'unavailable');
      expect(faulted).toBeGreaterThan(0);
      // Then the upload's status, and the same upload went on: no upload was started again.
      const upload = new URL(proxy.seen[faulted]!.url, 'http://x').pathname;
      const status = proxy.seen.slice(faulted).find((s) => s.method === 'GET' && s.url.startsWith(upload));
      expect(status?.status).toBe(204);
      expect(proxy.seen.slice(faulted).some((s) => s.method === 'PATCH' && s.url.startsWith(upload) && s.status === 202)).toBe(true);
      expect(uploadsStarted(proxy.seen)).toBe(blobsMissing(proxy.seen));
      await copyOut(target);
      await proxy.close();
      proxy = undefined;
    });

    it('a chunk cut midway ends in a whole image all the same', async () => {
      proxy = await startFaultProxy(registry.host, secondChunkMeets('cut'));
      const target = `${proxy.host}/chunked/cut:1`;
      const r = await push(target);
      expect(r.status, r.stderr).toBe(0);
      const cut = proxy.seen.findIndex((s) => s.fault === 'cut');
      expect(cut).toBeGreaterThan(0);
      const upload = new URL(proxy.seen[cut]!.url, 'http://x').pathname;
      // The client asked how far the upload got. Half a chunk landed after the last state the
      // registry signed, so distribution cancels that upload (404) rather than resume it: the
      // blob starts again in a fresh upload, once.
      const status = proxy.seen.slice(cut).find((s) => s.method === 'GET' && s.url.startsWith(upload));
      expect(status?.status).toBe(404);
      expect(uploadsStarted(proxy.seen)).toBe(blobsMissing(proxy.seen) + 1);
      await copyOut(target);
    });
  });
});
