/**
 * The CI scenario: a fresh runner (empty state), the cache of an earlier job in a registry on
 * loopback, one copied source file changed since. tsbuild imports its mode=max registry cache;
 * BuildKit (the installed dockerd, as bench/engine.ts starts it) does what it supports for the
 * same job: `--cache-from` an image pushed with its inline cache, after `docker builder prune
 * -af` and the removal of every image. Both pull the base from the same registry and run RUN
 * on the host's network. The Dockerfile has the usual shape: a base, a dependency install
 * (~64 MB, half of it compressible), a COPY of the source, a build step.
 * Prints medians and the ratio, and where the time of one more tsbuild run goes; asserts
 * nothing. Needs root.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeBusyboxRootfs } from '../test/support/rootfs.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { DOCKER, DOCKER_SOCK, startDockerd } from './engine.js';
import { median } from './stats.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TSBUILD = join(repo, 'bin', 'tsbuild.js');
const WORK = process.env.TSBUILD_BENCH_DIR ?? '/var/tmp/tsbuild-bench-cache-ci';
const RUNS = Number(process.env.TSBUILD_BENCH_RUNS ?? 3);
const DOCKER_ENV = { DOCKER_HOST: `unix://${DOCKER_SOCK}`, DOCKER_BUILDKIT: '1' };

function sh(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r;
}

function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): number {
  sh('sync', []);
  const t0 = performance.now();
  sh(cmd, args, env);
  return performance.now() - t0;
}

const docker = (args: readonly string[]) => sh(DOCKER, args, DOCKER_ENV);

/** The job's checkout: its Dockerfile, the dependency list and the source. */
function checkout(dir: string, base: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'deps.txt'), 'libfoo 1.2\nlibbar 3.4\n');
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'src', `mod${i}.c`), `int mod${i}(void) { return ${i}; }\n`);
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      `FROM ${base}`,
      'WORKDIR /app',
      'COPY deps.txt .',
      // The dependency install: 32 MB of libraries (noise) and 32 MB of text.
      'RUN mkdir -p /deps && for i in 1 2 3 4 5 6 7 8; do head -c 4000000 /dev/urandom > /deps/lib$i.so; done && yes "dependency $(cat deps.txt | head -1)" | head -c 32000000 > /deps/docs.txt',
      'COPY src/ ./src/',
      'RUN cat src/*.c | sha256sum > build.out && ls /deps >> build.out',
      '',
    ].join('\n'),
  );
}

/**
 * One more build with `--progress json`, untimed by the others: from the start to the first
 * event, then to the first step that runs (base image and caches resolved, hits found), then
 * to the last event, then to the end.
 */
function phases(args: readonly string[]): string {
  sh('sync', []);
  const t0 = Date.now();
  const r = sh(TSBUILD, [...args, '--progress', 'json']);
  const end = Date.now();
  const events = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { kind?: string; name?: string; state?: string; at?: number })
    .filter((e) => typeof e.at === 'number');
  const first = events[0]?.at;
  const last = events.at(-1)?.at;
  const ran = events.find((e) => e.kind === 'vertex' && e.state === 'started' && /^\[\d+\/\d+\]/.test(e.name ?? ''))?.at;
  if (first === undefined || last === undefined || ran === undefined) return 'no step ran';
  return `start ${first - t0} ms, base and cache ${ran - first} ms, the steps that run ${last - ran} ms, finish ${end - last} ms`;
}

export async function run(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['cache CI benchmark needs root'];
  if (spawnSync('sh', ['-c', 'command -v docker-registry']).status !== 0) return ['cache CI benchmark: docker-registry not installed (bash scripts/install-deps.sh)'];
  if (!(await startDockerd())) return ['cache CI benchmark: BuildKit not installed (apt-get install docker.io)'];
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  let registry: TestRegistry | undefined;
  try {
    registry = await startRegistry(join(WORK, 'registry'));
    const host = registry.host;
    const base = `${host}/ci/busybox:1`;
    const baseCtx = join(WORK, 'base');
    await makeBusyboxRootfs(join(baseCtx, 'rootfs'));
    writeFileSync(join(baseCtx, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n');
    sh(TSBUILD, ['build', '--root', join(WORK, 'root-base'), '--progress', 'quiet', '-o', `type=image,name=${base},push=true`, baseCtx]);

    const ctx = join(WORK, 'checkout');
    checkout(ctx, base);
    const hostNetwork = ['--network', 'host', '--allow', 'network.host'];
    // The earlier job of each tool: a full build that leaves its cache in the registry.
    const tsCache = `${host}/ci/cache:main`;
    sh(TSBUILD, ['build', '--root', join(WORK, 'root-first'), '--progress', 'quiet', ...hostNetwork, '--cache-to', `type=registry,ref=${tsCache},mode=max`, '-t', 'ci:first', ctx]);
    rmSync(join(WORK, 'root-first'), { recursive: true, force: true });
    const bkImage = `${host}/ci/app:main`;
    docker(['build', '--network', 'host', '-q', '--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-t', bkImage, ctx]);
    docker(['push', '-q', bkImage]);

    const ts: number[] = [];
    const bk: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // One source file changed since the cached job.
      writeFileSync(join(ctx, 'src', 'mod0.c'), `int mod0(void) { return ${100 + i}; }\n`);
      const root = join(WORK, `root-${i}`);
      ts.push(timed(TSBUILD, ['build', '--root', root, '--progress', 'quiet', ...hostNetwork, '--cache-from', `type=registry,ref=${tsCache}`, '-t', 'ci:latest', ctx]));
      rmSync(root, { recursive: true, force: true });
      // A fresh BuildKit: no build cache, none of the job's images (the base included). Only
      // these: the dockerd may hold other benchmarks' images.
      docker(['builder', 'prune', '-af']);
      // (Not there yet is fine: the first round has no ci:latest.)
      for (const image of [bkImage, base, 'ci:latest']) spawnSync(DOCKER, ['rmi', '-f', image], { env: { ...process.env, ...DOCKER_ENV }, stdio: 'ignore' });
      bk.push(timed(DOCKER, ['build', '--network', 'host', '-q', '--cache-from', bkImage, '-t', 'ci:latest', ctx], DOCKER_ENV));
    }
    const [t, b] = [median(ts), median(bk)];
    writeFileSync(join(ctx, 'src', 'mod0.c'), `int mod0(void) { return ${100 + RUNS}; }\n`);
    const split = phases(['build', '--root', join(WORK, 'root-phases'), ...hostNetwork, '--cache-from', `type=registry,ref=${tsCache}`, '-t', 'ci:latest', ctx]);
    return [
      `${'CI rebuild: fresh state, registry cache, 1 file changed'.padEnd(56)} tsbuild ${t.toFixed(0)} ms   BuildKit ${b.toFixed(0)} ms` +
        `   (BuildKit / tsbuild = ${(b / t).toFixed(2)}×)   target ≥ 3×`,
      `${'  where tsbuild\'s time goes (one more run)'.padEnd(56)} ${split}`,
    ];
  } finally {
    await registry?.stop();
    if (process.env.TSBUILD_BENCH_KEEP !== '1') rmSync(WORK, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await run()) process.stdout.write(line + '\n');
}
