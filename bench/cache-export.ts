/**
 * A `--cache-to type=gha,mode=max` export of a 30-step build to the loopback GitHub Actions
 * cache service of test/support (its Twirp handler, azurite for the blobs), every request held
 * 50 ms (the handler's latency option for Twirp, a delaying proxy in front of azurite for the
 * blobs), as a runner far from the service sees it. The export overlaps the build, so what
 * counts is what it adds after the last step: that time, less the time the bytes still to
 * send then take at the blob store's measured rate. Target: ≤ 2 s. Prints the request count.
 * Needs root (RUN) and the dev dependencies (azurite, the Azure SDK): run it from a checkout.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startAzurite, type Azurite } from '../test/support/azurite.js';
import { READ, startGhaCacheService, WRITE, type GhaCacheService } from '../test/support/gha-cache.js';
import { makeBusyboxRootfs } from '../test/support/rootfs.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TSBUILD = join(repo, 'bin', 'tsbuild.js');
const WORK = process.env.TSBUILD_BENCH_DIR ?? '/var/tmp/tsbuild-bench-cache-export';
const LATENCY_MS = 50;
const STEPS = 30;

/** The Dockerfile: the busybox base and 29 RUNs, every third one a 2 MB layer (an entry of its own), the others 20 kB (packed). */
function dockerfile(): string {
  const runs = Array.from({ length: STEPS - 1 }, (_, i) => `RUN head -c ${i % 3 === 0 ? 2_000_000 : 20_000} /dev/urandom > /f${i}`);
  return ['FROM scratch', 'COPY rootfs/ /', ...runs, ''].join('\n');
}

interface JsonEvent {
  readonly kind: string;
  readonly name?: string;
  readonly state?: string;
  readonly at?: number;
}

/** Bytes per ms a single blob PUT moves through the proxy, its fixed latency left out. */
async function blobRate(service: GhaCacheService, token: string): Promise<number> {
  const res = await fetch(new URL('twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry', service.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ key: 'bench-rate-probe', version: 'bench' }),
  });
  const { signed_upload_url: url } = (await res.json()) as { signed_upload_url: string };
  const body = Buffer.alloc(16 * 1024 * 1024, 7);
  const t0 = performance.now();
  const put = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': '2020-10-02', 'content-type': 'application/octet-stream' }, body });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`the rate probe's PUT answered HTTP ${put.status}`);
  return body.length / Math.max(1, performance.now() - t0 - LATENCY_MS);
}

export async function run(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['cache export benchmark needs root'];
  let azurite: Azurite;
  try {
    azurite = await startAzurite();
  } catch (e) {
    return [`cache export benchmark: azurite did not start (${(e as Error).message.split('\n')[0]}); it needs the dev dependencies (npm ci in a checkout)`];
  }
  let proxy: LatencyProxy | undefined;
  let service: GhaCacheService | undefined;
  try {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const azuriteUrl = new URL(azurite.blobEndpoint);
    proxy = await startLatencyProxy(azuriteUrl.origin, LATENCY_MS);
    service = await startGhaCacheService(azurite, { latencyMs: LATENCY_MS, blobEndpoint: `${proxy.origin}${azuriteUrl.pathname}` });
    const token = service.token([{ scope: 'refs/heads/main', permission: READ | WRITE }]);
    const rate = await blobRate(service, token);
    const ctx = join(WORK, 'context');
    await makeBusyboxRootfs(join(ctx, 'rootfs'));
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile());
    const twirpBefore = service.calls.length;
    const blobBefore = proxy.requests.length;
    const env = { ...process.env, ACTIONS_RESULTS_URL: service.url, ACTIONS_RUNTIME_TOKEN: token, ACTIONS_CACHE_MODE: '' };
    // Asynchronous: the services answer in this process meanwhile.
    const r = await spawnAsync(TSBUILD, ['build', '--root', join(WORK, 'root'), '--progress', 'json', '--cache-to', 'type=gha,scope=bench,mode=max', ctx], env);
    if (r.status !== 0) throw new Error(`the build failed (${r.status}): ${r.stderr.split('\n').filter((l) => !l.startsWith('{')).join('\n')}`);
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as JsonEvent);
    const lastStep = Math.max(...events.filter((e) => e.kind === 'vertex' && e.state === 'done' && e.name?.startsWith('[') === true).map((e) => e.at!));
    const exportDone = events.find((e) => e.kind === 'vertex' && e.state === 'done' && e.name === 'exporting cache to gha:bench')?.at;
    if (exportDone === undefined) throw new Error('the export did not finish');
    // The bytes still to send when the last step ended: each blob PUT's share after that instant.
    const puts = proxy.requests.slice(blobBefore).filter((q) => q.method === 'PUT' && q.end !== undefined);
    const bytesAfter = puts.reduce((sum, q) => {
      if (q.end! <= lastStep) return sum;
      const share = q.start >= lastStep ? 1 : (q.end! - lastStep) / Math.max(1, q.end! - q.start);
      return sum + q.bytes * share;
    }, 0);
    const tail = exportDone - lastStep;
    const moving = bytesAfter / rate;
    const twirp = service.calls.length - twirpBefore;
    const blobs = proxy.requests.length - blobBefore;
    const allBytes = puts.reduce((sum, q) => sum + q.bytes, 0);
    return [
      `${'gha export, 30 steps, mode=max, +50 ms per request'.padEnd(52)} after the last step ${tail.toFixed(0)} ms, of which moving ${(bytesAfter / 1e6).toFixed(1)} MB at ${(rate / 1000).toFixed(0)} MB/s ${moving.toFixed(0)} ms: added ${(tail - moving).toFixed(0)} ms   target ≤ 2000 ms`,
      `${'gha export requests'.padEnd(52)} ${twirp + blobs} (${twirp} Twirp, ${blobs} blob store; ${(allBytes / 1e6).toFixed(1)} MB uploaded)`,
    ];
  } finally {
    await service?.close();
    await proxy?.close();
    await azurite.stop();
    if (process.env.TSBUILD_BENCH_KEEP !== '1') rmSync(WORK, { recursive: true, force: true });
  }
}

/** A child process's exit status and stderr, without blocking this process's event loop. */
function spawnAsync(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr: Buffer.concat(chunks).toString('utf8') }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await run()) process.stdout.write(line + '\n');
}
