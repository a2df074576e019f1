/**
 * Pushing and pulling a 1 GB, 10-layer image through a local docker-registry, tsbuild beside
 * `skopeo copy` of the same image. Push: tsbuild uploads its already compressed layers
 * (compression is made once, before timing) and skopeo copies the same gzip blobs from an
 * OCI layout; pull: `tsbuild pull` into a fresh store beside `skopeo copy` into an OCI layout
 * (the same work: download, verify, store), and a build FROM the image with a RUN, which pulls
 * and unpacks every layer.
 * Prints medians and tsbuild's peak memory; asserts nothing. Needs root.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeBusyboxRootfs } from '../test/support/rootfs.js';
import { startRegistry } from '../test/support/registry.js';
import { median } from './stats.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TSBUILD = join(repo, 'bin', 'tsbuild.js');
const WORK = process.env.TSBUILD_BENCH_DIR ?? '/var/tmp/tsbuild-bench-registry';
// Five: skopeo's push time alone swings between 3.0 and 4.8 s from one run to the next.
const RUNS = Number(process.env.TSBUILD_BENCH_RUNS ?? 5);
const LAYER_MB = Number(process.env.TSBUILD_BENCH_LAYER_MB ?? 100);

function sh(cmd: string, args: readonly string[]): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r;
}

function timed(cmd: string, args: readonly string[]): number {
  sh('sync', []);
  const t0 = performance.now();
  sh(cmd, args);
  return performance.now() - t0;
}

export async function run(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['registry benchmarks need root'];
  if (spawnSync('sh', ['-c', 'command -v docker-registry && command -v skopeo']).status !== 0) {
    return ['registry benchmarks: docker-registry or skopeo not installed (bash scripts/install-deps.sh)'];
  }
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const root = join(WORK, 'root');
  // Each run pushes into two new, empty registries (one per tool): a blob one of them holds
  // already would be skipped or mounted, not uploaded, and the push would measure nothing.
  const registries: Awaited<ReturnType<typeof startRegistry>>[] = [];
  try {
    const base = join(WORK, 'base');
    mkdirSync(base);
    await makeBusyboxRootfs(join(base, 'rootfs'));
    writeFileSync(join(base, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
    sh(TSBUILD, ['build', '--root', root, '--progress', 'quiet', '-t', 'busybox:test', base]);
    const big = join(WORK, 'big');
    mkdirSync(big);
    const runs = Array.from({ length: 9 }, (_, i) => `RUN head -c ${LAYER_MB * 1_000_000} /dev/urandom > /layer${i}`).join('\n');
    writeFileSync(join(big, 'Dockerfile'), `FROM busybox:test\n${runs}\n`);
    sh(TSBUILD, ['build', '--root', root, '--progress', 'quiet', '-t', 'big:1', big]);
    // Compress once (both tools then move the same gzip blobs) and give skopeo an OCI layout.
    const layout = join(WORK, 'layout');
    sh(TSBUILD, ['build', '--root', root, '--progress', 'quiet', '-o', `type=oci,dest=${layout},tar=false,name=big:1`, big]);
    const tsPush: number[] = [];
    const skPush: number[] = [];
    const tsPull: number[] = [];
    const tsFrom: number[] = [];
    const skPull: number[] = [];
    let peakPull = 0;
    let peakFrom = 0;
    for (let i = 0; i < RUNS; i++) {
      const [forTs, forSk] = [await startRegistry(join(WORK, `registry-ts${i}`)), await startRegistry(join(WORK, `registry-sk${i}`))];
      registries.push(forTs, forSk);
      const host = forTs.host;
      const tsbuildPush = () => tsPush.push(timed(TSBUILD, ['push', '--root', root, 'big:1', `${host}/ts/big${i}:1`]));
      const skopeoPush = () => skPush.push(timed('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${forSk.host}/sk/big${i}:1`]));
      // Alternately first: the first push of a round follows the last round's deletes of ~2 GB.
      for (const push of i % 2 === 0 ? [tsbuildPush, skopeoPush] : [skopeoPush, tsbuildPush]) push();
      // Both pull the same image from the same registry, one after the other.
      const pullRoot = join(WORK, `pull-root${i}`);
      const tsbuildPull = () => {
        sh('sync', []);
        const t0 = performance.now();
        const r = sh('/usr/bin/time', ['-f', '%M', TSBUILD, 'pull', '--root', pullRoot, `${host}/ts/big${i}:1`]);
        tsPull.push(performance.now() - t0);
        peakPull = Math.max(peakPull, Number(r.stderr.trim().split('\n').pop()));
        rmSync(pullRoot, { recursive: true, force: true });
      };
      const skopeoPull = () => {
        skPull.push(timed('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${host}/ts/big${i}:1`, `oci:${join(WORK, `sk-pull${i}`)}:1`]));
        rmSync(join(WORK, `sk-pull${i}`), { recursive: true, force: true });
      };
      // Twice each, in an ABBA order: which pull comes first after a push swings by a second.
      for (const pull of i % 2 === 0 ? [tsbuildPull, skopeoPull, skopeoPull, tsbuildPull] : [skopeoPull, tsbuildPull, tsbuildPull, skopeoPull]) pull();
      const pullCtx = join(WORK, `pull${i}`);
      mkdirSync(pullCtx);
      // A step on its files: a FROM alone fetches no layer (they are fetched when needed).
      writeFileSync(join(pullCtx, 'Dockerfile'), `FROM ${host}/ts/big${i}:1\nRUN true\n`);
      sh('sync', []);
      const t0 = performance.now();
      const r = sh('/usr/bin/time', ['-f', '%M', TSBUILD, 'build', '--root', pullRoot, '--progress', 'quiet', pullCtx]);
      tsFrom.push(performance.now() - t0);
      peakFrom = Math.max(peakFrom, Number(r.stderr.trim().split('\n').pop()));
      rmSync(pullRoot, { recursive: true, force: true });
      for (const r of registries.splice(0)) await r.stop();
      rmSync(join(WORK, `registry-ts${i}`), { recursive: true, force: true });
      rmSync(join(WORK, `registry-sk${i}`), { recursive: true, force: true });
    }
    const mb = ((9 * LAYER_MB + 2) / 1000).toFixed(1);
    const line = (name: string, t: number, s: number, target: string) =>
      `${name.padEnd(40)} tsbuild ${t.toFixed(0)} ms   skopeo copy ${s.toFixed(0)} ms   (skopeo / tsbuild = ${(s / t).toFixed(2)}×)   ${target}`;
    return [
      line(`push ${mb} GB, 10 layers (gzip)`, median(tsPush), median(skPush), 'target ≥ 1.5×'),
      line(`pull ${mb} GB, 10 layers`, median(tsPull), median(skPull), 'target ≥ 1×'),
      line(`FROM it + RUN: pull + unpack ${mb} GB`, median(tsFrom), median(skPull), '(skopeo only pulls)'),
      `${'peak memory, pull / FROM'.padEnd(40)} tsbuild ${(peakPull / 1024).toFixed(0)} / ${(peakFrom / 1024).toFixed(0)} MiB   target < 200 MiB`,
    ];
  } finally {
    for (const r of registries) await r.stop();
    if (process.env.TSBUILD_BENCH_KEEP !== '1') rmSync(WORK, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await run()) process.stdout.write(line + '\n');
}
