// A base layer is unpacked as it downloads, not after: a proxy in front of a real registry
// holds the layer's blob after part of it went through, and the layer's first file is then
// already complete in the builder's staging directory. Released, the build finishes.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tsbuildAsync, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { filesNamed } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-unpack-streaming-'));
const FILE_SIZE = 3 << 20;
let registry: TestRegistry;
let proxy: Server;
let proxyHost: string;
/** The layer blob the proxy holds back, and how many of its bytes it lets through first. */
let held: { path: string; after: number } | undefined;
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

/** The sizes of the files named `name` below `dir`; none while the builder moves things under it. */
function sizesOf(dir: string, name: string): number[] {
  try {
    return filesNamed(dir, name).map((path) => statSync(path).size);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

describe.skipIf(!isRoot && !isCI)('unpacking a base layer as it downloads', () => {
  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    proxy = createServer((req, res) => {
      const [host, port] = registry.host.split(':');
      const up = request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (held === undefined || req.url !== held.path) {
          answer.pipe(res);
          return;
        }
        const { after } = held;
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= after) {
            res.write(chunk);
            return;
          }
          const head = chunk.subarray(0, after - sent);
          const rest = chunk.subarray(head.length);
          sent += chunk.length;
          res.write(head);
          if (sent < after) return;
          // The rest waits for the test, and so does the registry's answer.
          answer.pause();
          void released.then(() => {
            res.write(rest);
            answer.resume();
          });
        });
        answer.on('end', () => res.end());
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    // The base: one layer of two files of random bytes (gzip leaves them their size), the first
    // one first in the archive.
    const ctx = join(work, 'base');
    mkdirSync(join(ctx, 'files'), { recursive: true });
    writeFileSync(join(ctx, 'files', 'a-first.bin'), randomBytes(FILE_SIZE));
    writeFileSync(join(ctx, 'files', 'z-last.bin'), randomBytes(FILE_SIZE));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY files/ /\n');
    const pushed = tsbuildSync(['build', '--root', join(work, 'maker'), '--progress', 'quiet', '-o', `type=image,name=${registry.host}/stream/base:1,push=true`, ctx]);
    expect(pushed.status, pushed.stderr).toBe(0);
    const inspect = run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/stream/base:1`]);
    expect(inspect.status, inspect.stderr).toBe(0);
    const [layer] = (JSON.parse(inspect.stdout) as { Layers: string[] }).Layers;
    // Held once about three quarters of the blob went through: the first file and a little
    // of the second.
    held = { path: `/v2/stream/base/blobs/${layer}`, after: Math.floor(FILE_SIZE * 1.5) };
  });

  afterAll(async () => {
    release();
    await new Promise<void>((resolve) => (proxy === undefined ? resolve() : proxy.close(() => resolve())));
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('has the first file of the layer whole before the rest of the blob arrives', async () => {
    const root = join(work, 'root');
    const ctx = join(work, 'app');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'note.txt'), 'on top\n');
    // A COPY on the base needs its files: the layer is fetched and unpacked.
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${proxyHost}/stream/base:1\nCOPY note.txt /note.txt\n`);
    const build = tsbuildAsync(['build', '--root', root, '--progress', 'plain', ctx]);
    let seen: number[] = [];
    try {
      // Wait (up to a minute: no timing is asserted) for the first file, whole, in the state
      // directory's snapshots, while the proxy still holds the rest of the blob.
      for (let i = 0; i < 600 && !seen.includes(FILE_SIZE); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen = sizesOf(join(root, 'snapshots'), 'a-first.bin');
      }
    } finally {
      release();
    }
    expect(seen).toContain(FILE_SIZE);
    const r = await build.done;
    expect(r.status, r.stderr).toBe(0);
    // Whole after the release: both files, in the snapshot the build committed.
    expect(sizesOf(join(root, 'snapshots'), 'z-last.bin')).toContain(FILE_SIZE);
  });
});
