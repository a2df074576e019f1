/**
 * The build engine against its peers, on the same busybox base and the same machine:
 * BuildKit (Debian's docker.io: its dockerd on a private socket, its own docker client with
 * DOCKER_BUILDKIT=1) and Buildah (`buildah bud --runtime runc --layers`). Prints medians;
 * asserts nothing. Needs root. A peer that is not installed is reported as such.
 */
import { spawnSync, spawn, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeBusyboxRootfs } from '../test/support/rootfs.js';
import { median } from './stats.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// Executed directly, as the installed `tsbuild` command runs (see bin/tsbuild.js).
const TSBUILD = join(repo, 'bin', 'tsbuild.js');
const WORK = process.env.TSBUILD_BENCH_DIR ?? '/var/tmp/tsbuild-bench';
const RUNS = Number(process.env.TSBUILD_BENCH_RUNS ?? 3);
export const DOCKER_SOCK = '/run/tsbuild-bench-docker.sock';
export const DOCKER = '/usr/bin/docker';

type Tool = 'tsbuild' | 'buildkit' | 'buildah';

function sh(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
}

function must(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r;
}

const tsbuildRoot = join(WORK, 'tsbuild-root');

/** tsbuild's RUN on the host's network, as BuildKit runs here (its dockerd has no bridge). */
const TSBUILD_HOST_NETWORK = ['--network', 'host', '--allow', 'network.host'];

function buildCmd(tool: Tool, ctx: string, opts: { noCache?: boolean; tag?: string; hostNetwork?: boolean; allowInsecure?: boolean } = {}): [string, string[], NodeJS.ProcessEnv] {
  const tag = opts.tag ?? 'bench:latest';
  switch (tool) {
    case 'tsbuild':
      return [TSBUILD, ['build', '--root', tsbuildRoot, '--progress', 'quiet', '-t', tag, ...(opts.noCache ? ['--no-cache'] : []), ...(opts.hostNetwork ? TSBUILD_HOST_NETWORK : []), ...(opts.allowInsecure ? ['--allow', 'security.insecure'] : []), ctx], {}];
    case 'buildkit':
      return [DOCKER, ['build', '--network', 'host', '-q', '-t', tag, ...(opts.noCache ? ['--no-cache'] : []), ctx], { DOCKER_HOST: `unix://${DOCKER_SOCK}`, DOCKER_BUILDKIT: '1' }];
    case 'buildah':
      return ['buildah', ['bud', '--runtime', 'runc', '--layers', '--pull=false', '-q', '-t', tag, ...(opts.noCache ? ['--no-cache'] : []), ctx], {}];
  }
}

function timeBuild(tool: Tool, ctx: string, opts: { noCache?: boolean; hostNetwork?: boolean; allowInsecure?: boolean } = {}): number {
  const [cmd, args, env] = buildCmd(tool, ctx, opts);
  // Every tool starts with no dirty pages of the previous run still being written back.
  sh('sync', []);
  const t0 = performance.now();
  must(sh(cmd, args, env), `${tool} build of ${ctx}`);
  return performance.now() - t0;
}

/** Peak resident memory (kB) of the build's processes, from GNU time. */
function peakMemory(tool: Tool, ctx: string): number {
  const [cmd, args, env] = buildCmd(tool, ctx, { noCache: true });
  const r = must(sh('/usr/bin/time', ['-f', '%M', cmd, ...args], env), `${tool} build under /usr/bin/time`);
  return Number(r.stderr.trim().split('\n').pop());
}

/** The bench's own dockerd (BuildKit) on a private socket, started once; false when it is not installed. */
export async function startDockerd(): Promise<boolean> {
  if (!existsSync('/usr/sbin/dockerd') || !existsSync(DOCKER)) return false;
  if (sh(DOCKER, ['version'], { DOCKER_HOST: `unix://${DOCKER_SOCK}` }).status === 0) return true;
  const d = spawn('/usr/sbin/dockerd', ['--host', `unix://${DOCKER_SOCK}`, '--data-root', '/var/lib/tsbuild-bench-docker', '--exec-root', '/run/tsbuild-bench-docker', '--pidfile', '/run/tsbuild-bench-docker.pid', '--iptables=false', '--bridge=none'], { stdio: 'ignore', detached: true });
  d.unref();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (sh(DOCKER, ['version'], { DOCKER_HOST: `unix://${DOCKER_SOCK}` }).status === 0) return true;
  }
  return false;
}

function have(cmd: string): boolean {
  return sh('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function context(name: string, dockerfile: string): string {
  const dir = join(WORK, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/** A context of `files` files in 100-file directories totalling about `bytes`. */
function bigContext(dir: string, files: number, bytes: number): void {
  if (existsSync(join(dir, '.complete'))) return;
  const per = Math.floor(bytes / files);
  const block = Buffer.alloc(per);
  for (let i = 0; i < files; i++) {
    const d = join(dir, 'data', `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    block.writeUInt32LE(i, 0); // distinct content per file
    writeFileSync(join(d, `f${i}.bin`), block);
  }
  writeFileSync(join(dir, '.complete'), '');
}

async function setup(tools: Tool[]): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const base = join(WORK, 'base');
  if (!existsSync(join(base, 'rootfs', 'bin', 'busybox'))) await makeBusyboxRootfs(join(base, 'rootfs'));
  writeFileSync(join(base, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n');
  const archive = join(WORK, 'busybox.docker.tar');
  must(sh(TSBUILD, ['build', '--root', tsbuildRoot, '--progress', 'quiet', '-t', 'busybox:test', '-o', 'type=image', '-o', `type=docker,dest=${archive}`, base]), 'tsbuild base image');
  if (tools.includes('buildkit')) {
    const tar = join(WORK, 'busybox-rootfs.tar');
    must(sh('tar', ['-C', join(base, 'rootfs'), '-cf', tar, '.']), 'rootfs tar');
    must(sh(DOCKER, ['import', tar, 'busybox:test'], { DOCKER_HOST: `unix://${DOCKER_SOCK}` }), 'docker import');
  }
  if (tools.includes('buildah')) must(sh('buildah', ['pull', '-q', `docker-archive:${archive}`]), 'buildah pull');
}

export async function run(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['engine benchmarks need root (namespaces and overlay mounts)'];
  const tools: Tool[] = ['tsbuild'];
  const notes: string[] = [];
  if (await startDockerd()) tools.push('buildkit');
  else notes.push('BuildKit: not installed (apt-get install docker.io)');
  if (have('buildah')) tools.push('buildah');
  else notes.push('Buildah: not installed (apt-get install buildah)');
  await setup(tools);

  const lines: string[] = [...notes];
  const report = (name: string, results: Partial<Record<Tool, number>>, unit = 'ms', targets = '') => {
    const parts = (Object.entries(results) as [Tool, number][]).map(([t, v]) => `${t} ${v.toFixed(0)} ${unit}`);
    const ts = results.tsbuild;
    const ratios = (['buildkit', 'buildah'] as const)
      .filter((t) => results[t] !== undefined && ts !== undefined)
      .map((t) => `${(ts! / results[t]!).toFixed(2)}× ${t}`);
    lines.push(`${name.padEnd(42)} ${parts.join('   ')}${ratios.length > 0 ? `   (tsbuild = ${ratios.join(', ')})` : ''}${targets}`);
  };
  const medians = (ctx: string, opts: { noCache?: boolean; warm?: boolean }) => {
    const out: Partial<Record<Tool, number>> = {};
    for (const t of tools) {
      if (opts.warm) timeBuild(t, ctx, { hostNetwork: true });
      // RUN on the host's network for every tool, as BuildKit's runs here: the comparison is of
      // the builders, not of their networks (the isolated network's own cost is printed below).
      out[t] = median(Array.from({ length: RUNS }, () => timeBuild(t, ctx, { ...opts, hostNetwork: true })));
    }
    return out;
  };

  const parallel = context('parallel', 'FROM busybox:test AS a\nRUN sleep 1 && echo a > /a\nFROM busybox:test AS b\nRUN sleep 1 && echo b > /b\nFROM busybox:test\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n');
  // Both stages sleep a whole second: no builder can finish in less, which a target below
  // BuildKit's overhead above that second (~0.15 s) would ask for.
  report('parallel stages (2× RUN sleep 1), no cache', medians(parallel, { noCache: true }), 'ms', '   target ≤ 0.7× BuildKit (floor: 1000 ms of sleep)');

  const seq = context('sequential', 'FROM busybox:test\n' + Array.from({ length: 20 }, (_, i) => `RUN echo ${i} > /f${i}\n`).join(''));
  report('20 sequential small RUNs, no cache', medians(seq, { noCache: true }), 'ms', '   target ≤ 0.25× BuildKit');

  // What the isolated network costs beside the host's, from 1 and 20 RUNs (interleaved, so
  // that the machine's drift falls on all four alike): per build (the namespace and its
  // stack, made once) and per RUN (joining it).
  const one = context('one-run', 'FROM busybox:test\nRUN echo 0 > /f0\n');
  const cases = { d1: [one, false], h1: [one, true], d20: [seq, false], h20: [seq, true] } as const;
  const samples: Record<keyof typeof cases, number[]> = { d1: [], h1: [], d20: [], h20: [] };
  for (let i = 0; i < Math.max(RUNS, 5); i++) {
    for (const [k, [ctx, hostNetwork]] of Object.entries(cases) as [keyof typeof cases, readonly [string, boolean]][]) {
      samples[k].push(timeBuild('tsbuild', ctx, { noCache: true, hostNetwork }));
    }
  }
  const [d1, h1, d20, h20] = (['d1', 'h1', 'd20', 'h20'] as const).map((k) => median(samples[k]));
  const perRun = (d20! - h20! - (d1! - h1!)) / 19;
  lines.push(
    `${'isolated network vs host, tsbuild'.padEnd(42)} 20 RUNs ${d20!.toFixed(0)} vs ${h20!.toFixed(0)} ms, 1 RUN ${d1!.toFixed(0)} vs ${h1!.toFixed(0)} ms:` +
      ` ≈ ${(d1! - h1! - perRun).toFixed(1)} ms per build + ${perRun.toFixed(2)} ms per RUN`,
  );

  // What the sandbox costs per RUN (Docker's seccomp profile, nodev mounts, masked paths,
  // descriptors closed): the same 20 RUNs with --security=insecure, which lifts all of that,
  // interleaved with the sandboxed ones, both on the host's network.
  const seqInsecure = context('sequential-insecure', 'FROM busybox:test\n' + Array.from({ length: 20 }, (_, i) => `RUN --security=insecure echo ${i} > /f${i}\n`).join(''));
  const sandboxed: number[] = [];
  const insecure: number[] = [];
  for (let i = 0; i < Math.max(RUNS, 5); i++) {
    sandboxed.push(timeBuild('tsbuild', seq, { noCache: true, hostNetwork: true }));
    insecure.push(timeBuild('tsbuild', seqInsecure, { noCache: true, hostNetwork: true, allowInsecure: true }));
  }
  const [sb, ins] = [median(sandboxed), median(insecure)];
  lines.push(`${'sandboxed vs insecure RUN, tsbuild'.padEnd(42)} 20 RUNs ${sb.toFixed(0)} vs ${ins.toFixed(0)} ms: ≈ ${((sb - ins) / 20).toFixed(2)} ms per RUN`);

  const big = context('context', 'FROM busybox:test\nCOPY . /ctx\n');
  bigContext(big, 20_000, 300 * 1024 * 1024);
  report('300 MB / 20,000-file context, cold', medians(big, { noCache: true }), 'ms', '   target ≤ 0.5× BuildKit');
  report('300 MB / 20,000-file context, unchanged', medians(big, { warm: true }), 'ms', '   target ≤ 0.5× BuildKit');

  const three = context('three', 'FROM busybox:test AS a\nRUN echo a > /a\nFROM busybox:test AS b\nCOPY --from=a /a /b\nRUN cat /b\nFROM busybox:test\nCOPY --from=b /b /c\nRUN cat /c\nCMD ["cat", "/c"]\n');
  report('fully cached rebuild, 3 stages', medians(three, { warm: true }), 'ms', '   target ≤ 0.5× Buildah, ≤ 1.5× BuildKit');

  const mem = peakMemory('tsbuild', big);
  lines.push(`${'peak memory, 300 MB context build'.padEnd(42)} tsbuild ${(mem / 1024).toFixed(0)} MiB   target < 200 MiB`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await run()) process.stdout.write(line + '\n');
  if (process.env.TSBUILD_BENCH_KEEP !== '1') rmSync(join(WORK, 'tsbuild-root'), { recursive: true, force: true });
}
