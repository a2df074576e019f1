/**
 * The op kinds a Dockerfile needs: scratch, a local image, RUN (exec) and the file steps
 * (COPY, ADD, WORKDIR). Each answers its cache key apart from executing (style.md §2).
 */
import { chmod as fsChmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join, posix } from 'node:path';
import { BuildError } from '../../errors/index.js';
import { isolatedResolvConf, RUNNER_SPEC_VERSION, type MountSpec, type NetworkLease, type NetworkMode, type RunnerSpec, type SecurityMode } from '../../executor/index.js';
import { readImageConfig, type ImageBlobs } from '../../images/index.js';
import { fileXattrs } from '../../snapshotter/index.js';
import type { Matcher } from '../../frontend/dockerignore/index.js';
import { parseChmod } from '../../frontend/instructions/index.js';
import type { AddInstruction, CopyInstruction, RunMount } from '../../frontend/instructions/types.js';
import type { PlannedMount, SourceRef } from '../../frontend/stages/types.js';
import { digestOf, type CacheMap, type ExecContext, type InputKey, type Op } from '../core/index.js';
import { readRecord, writeRecord } from './records.js';
import { cacheMountId, mountTarget, readsSource, StepMounts } from './exec-mounts.js';
import { unpackImage } from './unpack.js';
import { changeSnapshot, newActiveKey, newSnapshotName, withView } from './mounted.js';
import type { Ref } from './ref.js';
import type { State } from './state.js';

import { contextXattrs, localContextOf, type LocalContext, type OpEnv } from './env.js';

export { contextXattrs, localContextOf, mainContext, type LocalContext, type NamedSource, type OpEnv } from './env.js';

const byKey = (n: number) => Array.from({ length: n }, () => ({ by: 'key' as const }));

export class ScratchOp implements Op<Ref> {
  readonly spec = { kind: 'scratch' };
  async cacheMap(): Promise<CacheMap<Ref>> {
    return { opDigest: digestOf(this.spec), inputs: [] };
  }
  async execute(): Promise<Ref> {
    return { snapshot: null };
  }
}

/**
 * An image from the local store (or one a build context names), unpacked into snapshots
 * (reused when already unpacked).
 */
export class LocalImageOp implements Op<Ref> {
  readonly spec: { kind: 'image'; ref: string };
  private readonly resolve: () => Promise<ImageBlobs>;
  constructor(
    private readonly env: OpEnv,
    ref: string,
    resolve?: () => Promise<ImageBlobs>,
  ) {
    this.spec = { kind: 'image', ref };
    this.resolve = resolve ?? (() => this.env.state.images.resolveImage(ref));
  }

  async cacheMap(): Promise<CacheMap<Ref>> {
    // The key is the image's content: retagging the name to another image changes it.
    const image = await this.resolve();
    return { opDigest: digestOf({ kind: 'image', manifest: image.manifest.digest }), inputs: [] };
  }

  async execute(_inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { state } = this.env;
    const image = await this.resolve();
    // Also checks that the config lists one diff id per manifest layer.
    const { diffIds } = await readImageConfig(state.content, image);
    return { snapshot: await unpackImage(state, image.layers, diffIds, (m, done, total) => cx.status(m, done, total)) };
  }
}

/**
 * A build context directory as a filesystem of its own (`FROM name` with
 * `--build-context name=DIR`): everything it holds, owners reset to 0:0, its .dockerignore
 * applied. Keyed by the content of the whole directory.
 */
export class LocalDirOp implements Op<Ref> {
  readonly spec = { kind: 'local' };
  constructor(
    private readonly env: OpEnv,
    private readonly context: LocalContext,
  ) {}

  async cacheMap(cx: { signal: AbortSignal }): Promise<CacheMap<Ref>> {
    const { checksumPaths } = await import('./context/index.js');
    const sum = await checksumPaths(this.context.dir, ['/'], {
      followLinks: true,
      xattrs: contextXattrs,
      ...(this.context.ignore === undefined ? {} : { matcher: this.context.ignore }),
      ...(this.context.statCache === undefined ? {} : { statCache: await this.context.statCache() }),
      signal: cx.signal,
    });
    return { opDigest: digestOf({ op: this.spec, context: sum }), inputs: [] };
  }

  async execute(_inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { copy } = await import('./file/index.js');
    const ctx = this.context;
    const snapshot = await changeSnapshot(this.env.state, null, async (dest) => {
      await copy({
        destRoot: dest,
        dest: '/',
        workdir: '/',
        source: { root: ctx.dir, ownership: 'reset', ...(ctx.ignore === undefined ? {} : { ignore: ctx.ignore }) },
        sources: ['/'],
        xattrs: contextXattrs,
        signal: cx.signal,
      });
    });
    return { snapshot };
  }
}

/** A RUN step failed: the command, its status and the end of its output. */
export class RunFailedError extends BuildError {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly output: readonly string[],
  ) {
    super('RUN_FAILED', `process "${command}" did not complete successfully: exit code: ${exitCode}`, {
      hint: output.length === 0 ? 'the command printed nothing' : `last lines of its output:\n${output.map((l) => `    ${l}`).join('\n')}`,
    });
  }
}

/** The last lines of a stream of output chunks. */
class OutputTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}
  push(chunk: Uint8Array): void {
    const parts = (this.partial + Buffer.from(chunk).toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }
  get(): string[] {
    return this.partial === '' ? [...this.lines] : [...this.lines, this.partial].slice(-this.max);
  }
}

let resolvConf: Promise<string> | undefined;
const hostResolvConf = () => (resolvConf ??= readFile('/etc/resolv.conf', 'utf8').catch(() => ''));

export interface ExecSpec {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly network: 'default' | 'none' | 'host';
  /** RUN --security; 'insecure' only once the build was granted security.insecure. */
  readonly security: SecurityMode;
  readonly mounts: readonly PlannedMount[];
  /** A `RUN <<EOF` script starting with #!: bound read-only at /dev/pipes/. */
  readonly script?: { readonly name: string; readonly data: string };
}

/** RUN: the command on a new snapshot of its root, in the native runner. */
export class ExecOp implements Op<Ref> {
  readonly spec: unknown;
  private readonly exec: ExecSpec;
  constructor(
    private readonly env: OpEnv,
    exec: ExecSpec,
  ) {
    this.exec = exec;
    // Mount sources are inputs; cache-mount ids never change a result, so they stay out.
    // With ssh mounts, SSH_AUTH_SOCK names the first socket unless the step sets it (BuildKit).
    const ssh = exec.mounts.filter((m) => m.mount.type === 'ssh');
    if (ssh.length > 0 && !exec.env.some((e) => e.startsWith('SSH_AUTH_SOCK='))) {
      this.exec = { ...exec, env: [...exec.env, `SSH_AUTH_SOCK=${mountTarget(ssh[0]!.mount, exec.cwd, 0)!}`] };
    }
    this.spec = {
      kind: 'exec',
      args: exec.args,
      env: this.exec.env,
      cwd: exec.cwd,
      user: exec.user,
      network: exec.network,
      // Only when insecure: keys of sandboxed steps stay as they were.
      security: exec.security === 'insecure' ? 'insecure' : undefined,
      mounts: exec.mounts.map((m) => mountKey(m.mount)),
      script: exec.script,
    };
  }

  /** The step's network: 'default' is the build's isolated one. */
  get network(): 'default' | 'none' | 'host' {
    return this.exec.network;
  }

  /** The ids of the step's cache mounts. */
  cacheMountIds(): string[] {
    return this.exec.mounts.flatMap((m) => (m.mount.type === 'cache' ? [cacheMountId(m.mount, mountTarget(m.mount, this.exec.cwd, 0)!)] : []));
  }

  /** Inputs after the root: the stages and images that bind and cache mounts read (not local directories). */
  static mountSources(env: OpEnv, mounts: readonly PlannedMount[]): SourceRef[] {
    return mounts.filter((m) => readsSource(env, m)).map((m) => m.source);
  }

  async cacheMap(cx: { signal: AbortSignal }): Promise<CacheMap<Ref>> {
    // A bind of a stage or image is keyed by the content of its source path, as BuildKit
    // keys it: a change elsewhere in that stage leaves the step cached.
    const inputs: InputKey<Ref>[] = [{ by: 'key' }];
    for (const m of this.exec.mounts) {
      if (!readsSource(this.env, m)) continue;
      const mount = m.mount;
      inputs.push(mount.type === 'bind' ? { by: 'content', checksum: (ref) => this.snapshotSum(ref, posix.join('/', mount.source), cx.signal) } : { by: 'key' });
    }
    const contexts = await this.boundContextSums(cx.signal);
    return { opDigest: digestOf(contexts.length === 0 ? this.spec : { op: this.spec, contexts }), inputs };
  }

  /**
   * The content checksum of `path` in a committed snapshot (owners included: a stage's files
   * keep theirs), computed once per snapshot and path: snapshots never change.
   */
  private async snapshotSum(ref: Ref, path: string, signal: AbortSignal): Promise<string> {
    const { state } = this.env;
    const memo = `mount-sum\0${ref.snapshot ?? 'scratch'}\0${path}`;
    const known = await readRecord<{ sum: string }>(state.layerMetaDir, memo);
    if (known !== undefined) return known.sum;
    const { checksumPaths } = await import('./context/index.js');
    const sum = await withView(state, ref.snapshot, (root) =>
      checksumPaths(root, [path], { followLinks: true, includeOwnership: true, xattrs: fileXattrs, signal }).catch((e: unknown) => {
        if (!(e instanceof BuildError) || e.code !== 'COPY_FAILED') throw e;
        throw new BuildError('MOUNT_FAILED', e.message, { hint: 'a bind mount source is a path in its stage or image' });
      }),
    );
    await writeRecord(state.layerMetaDir, memo, { sum });
    return sum;
  }

  /**
   * What the step can read through its binds of local build contexts, as BuildKit keys it:
   * per context, the content checksum of the mounts' source paths (a path inside another
   * selected one adds nothing), .dockerignore'd files left out as the mount hides them.
   */
  private async boundContextSums(signal: AbortSignal): Promise<{ readonly context: string; readonly sum: string }[]> {
    const selected = new Map<string, { local: LocalContext; paths: Set<string> }>();
    for (const m of this.exec.mounts) {
      if (m.mount.type !== 'bind') continue;
      const local = localContextOf(this.env, m.source);
      if (local === undefined) continue;
      const name = m.source.kind === 'named' ? `named:${m.source.name}` : 'context';
      let entry = selected.get(name);
      if (entry === undefined) selected.set(name, (entry = { local, paths: new Set() }));
      entry.paths.add(posix.join('/', m.mount.source));
    }
    if (selected.size === 0) return [];
    const { checksumPaths } = await import('./context/index.js');
    const sums: { context: string; sum: string }[] = [];
    for (const [context, { local, paths }] of [...selected].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const sum = await checksumPaths(local.dir, outermostPaths(paths), {
        followLinks: true,
        xattrs: contextXattrs,
        ...(local.ignore === undefined ? {} : { matcher: local.ignore }),
        ...(local.statCache === undefined ? {} : { statCache: await local.statCache() }),
        signal,
      }).catch((e: unknown) => {
        if (!(e instanceof BuildError) || e.code !== 'COPY_FAILED') throw e;
        throw new BuildError('MOUNT_FAILED', e.message, {
          hint: 'a bind mount source is a path in its build context; check the path, and that .dockerignore does not leave it out',
        });
      });
      sums.push({ context, sum });
    }
    return sums;
  }

  async execute(inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { state } = this.env;
    const root = inputs[0]!;
    const sources = inputs.slice(1);
    const key = newActiveKey();
    await state.snapshots.prepare(key, root.snapshot ?? undefined);
    const stepMounts = new StepMounts(this.env, this.exec.cwd, cx.signal);
    let script: string | undefined;
    let lease: NetworkLease | undefined;
    try {
      const lowers = root.snapshot === null ? [await emptyDir(state)] : await state.snapshots.lowerDirs(root.snapshot);
      let next = 0;
      for (const m of this.exec.mounts) await stepMounts.add(m, () => sources[next++]!);
      const mounts: MountSpec[] = [...stepMounts.mounts];
      if (this.exec.script !== undefined) {
        script = await writeScript(state.tmpDir, this.exec.script);
        mounts.push({ type: 'bind', target: '/dev/pipes', source: script, readonly: true });
      }
      // 'default' is the build's isolated network (executor/network.ts); host needed network.host.
      let network: NetworkMode = this.exec.network === 'none' ? 'none' : 'host';
      let resolvConf = await hostResolvConf();
      if (this.exec.network === 'default') {
        if (this.env.networks === undefined) throw new Error('internal: a RUN on the default network in a build without networks');
        lease = await this.env.networks.acquire(cx.signal);
        network = { join: lease.netns };
        resolvConf = isolatedResolvConf(resolvConf, lease.dns);
      }
      // HOME, when unset, comes from the user's passwd entry (the runner sets it, as runc does).
      // Secrets given as variables replace a variable of the same name, in this run only.
      const secretNames = new Set(stepMounts.env.map((e) => e.slice(0, e.indexOf('='))));
      const env = [...this.exec.env, ...this.env.proxyEnv].filter((e) => !secretNames.has(e.slice(0, e.indexOf('=')))).concat(stepMounts.env);
      const spec: RunnerSpec = {
        version: RUNNER_SPEC_VERSION,
        args: this.exec.args,
        env,
        cwd: this.exec.cwd,
        user: this.exec.user,
        hostname: 'buildkitsandbox',
        network,
        hosts: '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n',
        resolvConf,
        security: this.exec.security,
        rootfs: { lowers, upper: await state.snapshots.upperDir(key), work: await state.snapshots.workDir(key) },
        mounts,
      };
      const tail = new OutputTail(20);
      const { runProcess } = await import('../../executor/index.js');
      const { exitCode } = await runProcess(spec, {
        stdout: (b) => {
          tail.push(b);
          cx.log(1, b);
        },
        stderr: (b) => {
          tail.push(b);
          cx.log(2, b);
        },
        signal: cx.signal,
      });
      if (exitCode !== 0) throw new RunFailedError(this.exec.args.join(' '), exitCode, tail.get());
      const name = newSnapshotName();
      await state.snapshots.commit(name, key);
      return { snapshot: name };
    } catch (e) {
      await state.snapshots.remove(key).catch(() => {});
      throw e;
    } finally {
      lease?.release();
      if (script !== undefined) await rm(script, { recursive: true, force: true }).catch(() => {});
      await stepMounts.release();
    }
  }
}

/** Sorted, without the paths that lie inside another one (their content is in it already). */
function outermostPaths(paths: ReadonlySet<string>): string[] {
  if (paths.has('/')) return ['/'];
  const all = [...paths].sort();
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(`${q}/`)));
}

function mountKey(m: RunMount): unknown {
  // A cache starting from another stage keys on the path it starts from (the stage is an input).
  if (m.type === 'cache') return m.from === '' ? { type: 'cache', target: m.target } : { type: 'cache', target: m.target, source: m.source };
  return m;
}

async function emptyDir(state: State): Promise<string> {
  const dir = join(state.tmpDir, 'empty-lower');
  await mkdir(dir, { recursive: true });
  return dir;
}

export type FileAction =
  | { readonly kind: 'copy'; readonly instruction: CopyInstruction | AddInstruction; readonly workdir: string; readonly from: SourceRef | undefined }
  | { readonly kind: 'mkdir'; readonly path: string; readonly user: string };

/** COPY, ADD and WORKDIR: file changes written through a mounted view of the new snapshot. */
export class FileOp implements Op<Ref> {
  readonly spec: unknown;
  constructor(
    private readonly env: OpEnv,
    private readonly action: FileAction,
  ) {
    if (action.kind === 'mkdir') {
      this.spec = { kind: 'mkdir', path: action.path, user: action.user };
    } else {
      const i = action.instruction;
      this.spec = {
        kind: i.kind,
        sources: i.sources,
        heredocs: i.heredocSources.map((h) => ({ path: h.path, data: h.data })),
        dest: i.dest,
        workdir: action.workdir,
        chown: i.chown,
        chmod: i.chmod,
        exclude: i.exclude,
        parents: i.kind === 'copy' ? i.parents : false,
        unpack: i.kind === 'add' ? i.unpack : undefined,
        from: action.from === undefined ? 'context' : 'input',
      };
    }
  }

  /** The local directory the copy reads (the build context, or a named one), unless it reads an input. */
  private get local(): LocalContext | undefined {
    return this.action.kind === 'copy' ? localContextOf(this.env, this.action.from) : undefined;
  }

  private get readsStage(): boolean {
    return this.action.kind === 'copy' && this.local === undefined;
  }

  async cacheMap(cx: { signal: AbortSignal }): Promise<CacheMap<Ref>> {
    const local = this.local;
    if (this.action.kind === 'copy' && local !== undefined && this.action.instruction.sources.length > 0) {
      // What the step reads from the context is part of its key: exactly the selected paths.
      const i = this.action.instruction;
      // Loaded on first use, like the file operations: a fully cached build needs neither.
      const { checksumPaths } = await import('./context/index.js');
      const sum = await checksumPaths(local.dir, i.sources, {
        followLinks: true,
        exclude: i.exclude,
        xattrs: contextXattrs,
        ...(local.ignore === undefined ? {} : { matcher: local.ignore }),
        ...(local.statCache === undefined ? {} : { statCache: await local.statCache() }),
        signal: cx.signal,
      });
      return { opDigest: digestOf({ op: this.spec, context: sum }), inputs: byKey(1) };
    }
    return { opDigest: digestOf(this.spec), inputs: byKey(this.readsStage ? 2 : 1) };
  }

  async execute(inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { state } = this.env;
    const action = this.action;
    const root = inputs[0]!;
    const { add, copy, mkdirWorkdir } = await import('./file/index.js');
    const snapshot = await changeSnapshot(state, root.snapshot, async (dest, upper) => {
      if (action.kind === 'mkdir') {
        await mkdirWorkdir(dest, action.path, { user: action.user });
        return;
      }
      const readsLocal = this.local !== undefined;
      const run = async (sourceRoot: string, ownership: 'reset' | 'keep', ignore?: Matcher) => {
        const i = action.instruction;
        const common = {
          destRoot: dest,
          dest: i.dest,
          workdir: action.workdir,
          source: { root: sourceRoot, ownership, ...(ignore === undefined ? {} : { ignore }) },
          sources: i.sources,
          heredocs: i.heredocSources.map((h) => ({ path: h.path, data: h.data })),
          ...(i.chown === undefined ? {} : { chown: i.chown }),
          ...(i.chmod === undefined ? {} : { chmod: parseChmod(i.chmod, i.range) }),
          exclude: i.exclude,
          link: i.link,
          // A stage's or image's files keep their extended attributes (file capabilities);
          // context files keep theirs as BuildKit's context transfer leaves them.
          xattrs: ownership === 'keep' ? fileXattrs : contextXattrs,
          // Upper-dir writes run after this callback: only for a source that outlives it (a
          // local directory; a stage's view is unmounted by then).
          ...(readsLocal ? { upper } : {}),
          signal: cx.signal,
        };
        if (i.kind === 'add') await add({ ...common, ...(i.unpack === undefined ? {} : { unpack: i.unpack }) });
        else await copy({ ...common, parents: i.parents });
      };
      const local = this.local;
      if (local === undefined) await withView(state, inputs[1]!.snapshot, (src) => run(src, 'keep'));
      else await run(local.dir, 'reset', local.ignore);
    });
    return { snapshot };
  }
}


/** Writes a RUN heredoc script where the runner can bind it (read-only, executable). */
async function writeScript(tmpDir: string, script: { name: string; data: string }): Promise<string> {
  const dir = join(tmpDir, `pipes-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, script.name);
  await writeFile(file, script.data);
  await fsChmod(file, 0o755);
  return dir;
}
