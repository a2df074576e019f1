/**
 * The op kinds a Dockerfile needs: scratch, a local image, RUN (exec) and the file steps
 * (COPY, ADD, WORKDIR). Each answers its cache key apart from executing (style.md §2).
 */
import { chmod as fsChmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { join, posix } from 'node:path';
import { BuildError } from '../../errors/index.js';
import type { MountSpec, RunnerSpec } from '../../executor/index.js';
import { layerCompression, openLayerTar, readImageConfig, rememberLayerBlob, type ImageBlobs } from '../../exporter/index.js';
import { applyTar, fileXattrs, type SnapshotName } from '../../snapshotter/index.js';
import type { Matcher } from '../../frontend/dockerignore/index.js';
import { parseChmod } from '../../frontend/instructions/index.js';
import type { AddInstruction, CopyInstruction, RunMount } from '../../frontend/instructions/types.js';
import type { PlannedMount, SourceRef } from '../../frontend/stages/types.js';
import { digestOf, type CacheMap, type ExecContext, type Op } from '../core/index.js';
import type { StatCache } from './context/index.js';
import { unpackImage } from './unpack.js';
import { changeSnapshot, newActiveKey, newSnapshotName, withView } from './mounted.js';
import type { Ref } from './ref.js';
import type { State } from './state.js';

/** A directory on the host that COPY reads as a build context (the main one, or a named one). */
export interface LocalContext {
  readonly dir: string;
  /** Its .dockerignore: what it excludes is not in the context. */
  readonly ignore?: Matcher;
  /** Opened on first use: builds that copy nothing from the context never read it. */
  readonly statCache?: () => Promise<StatCache>;
}

/** What a `--build-context` is, once resolved. */
export type NamedSource =
  | { readonly kind: 'local'; readonly context: LocalContext }
  /** An image: from the local store (docker-image://) or an OCI layout (oci-layout://). */
  | { readonly kind: 'image'; readonly label: string; readonly resolve: () => Promise<ImageBlobs> }
  /** docker-image://scratch: the empty filesystem. */
  | { readonly kind: 'scratch' };

/** What every op of one build shares. */
export interface OpEnv {
  readonly state: State;
  readonly contextDir: string;
  readonly ignore?: Matcher;
  /** Opened on first use: builds that copy nothing from the context never read it. */
  readonly statCache?: () => Promise<StatCache>;
  /** The `--build-context`s, by key. */
  readonly named?: ReadonlyMap<string, NamedSource>;
  /** Proxy build args: in RUN's environment, never in a key or the image. */
  readonly proxyEnv: readonly string[];
  readonly network: 'default' | 'none' | 'host';
}

/** The main build context of an OpEnv as a LocalContext. */
export function mainContext(env: OpEnv): LocalContext {
  return {
    dir: env.contextDir,
    ...(env.ignore === undefined ? {} : { ignore: env.ignore }),
    ...(env.statCache === undefined ? {} : { statCache: env.statCache }),
  };
}

/** The local directory a COPY or RUN mount source reads directly, if it is one. */
export function localContextOf(env: OpEnv, ref: SourceRef | undefined): LocalContext | undefined {
  if (ref === undefined || ref.kind === 'context') return mainContext(env);
  if (ref.kind !== 'named') return undefined;
  const named = env.named?.get(ref.name);
  if (named === undefined) throw new Error(`internal: no build context named ${ref.name}`);
  return named.kind === 'local' ? named.context : undefined;
}

/**
 * Extended attributes of build-context files, as they reach BuildKit's COPY: its context
 * transfer sends every attribute, the receiving side sets them and then chowns the file to
 * 0:0, and the kernel drops `security.capability` on chown. So `user.*` (and `trusted.*`)
 * attributes are kept, file capabilities are not.
 */
export const contextXattrs = {
  list: async (path: string): Promise<readonly string[]> => (await fileXattrs.list(path)).filter((n) => n !== 'security.capability'),
  get: (path: string, name: string) => fileXattrs.get(path, name),
  set: (path: string, name: string, value: Uint8Array) => fileXattrs.set(path, name, value),
};

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
  readonly mounts: readonly PlannedMount[];
  /** A `RUN <<EOF` script starting with #!: bound read-only at /dev/pipes/. */
  readonly script?: { readonly name: string; readonly data: string };
}

/** RUN: the command on a new snapshot of its root, in the native runner. */
export class ExecOp implements Op<Ref> {
  readonly spec: unknown;
  constructor(
    private readonly env: OpEnv,
    private readonly exec: ExecSpec,
  ) {
    // Mount sources are inputs; cache-mount ids never change a result, so they stay out.
    this.spec = {
      kind: 'exec',
      args: exec.args,
      env: exec.env,
      cwd: exec.cwd,
      user: exec.user,
      network: exec.network,
      mounts: exec.mounts.map((m) => mountKey(m.mount)),
      script: exec.script,
    };
  }

  /** Inputs after the root: the stages and images that bind mounts read (not local directories). */
  static mountSources(env: OpEnv, mounts: readonly PlannedMount[]): SourceRef[] {
    return mounts
      .filter((m) => m.mount.type === 'bind' && m.source.kind !== 'scratch' && localContextOf(env, m.source) === undefined)
      .map((m) => m.source);
  }

  async cacheMap(): Promise<CacheMap<Ref>> {
    return { opDigest: digestOf(this.spec), inputs: byKey(1 + ExecOp.mountSources(this.env, this.exec.mounts).length) };
  }

  async execute(inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { state } = this.env;
    const root = inputs[0]!;
    const sources = inputs.slice(1);
    const key = newActiveKey();
    await state.snapshots.prepare(key, root.snapshot ?? undefined);
    const views: Array<() => Promise<void>> = [];
    try {
      const lowers = root.snapshot === null ? [await emptyDir(state)] : await state.snapshots.lowerDirs(root.snapshot);
      const mounts: MountSpec[] = [];
      let next = 0;
      for (const m of this.exec.mounts) {
        const target = posix.isAbsolute(m.mount.target) ? m.mount.target : posix.join(this.exec.cwd, m.mount.target);
        mounts.push(await this.mountFor(m, target, () => sources[next++]!, views));
      }
      if (this.exec.script !== undefined) {
        const dir = await writeScript(state.tmpDir, this.exec.script);
        views.push(() => rm(dir, { recursive: true, force: true }));
        mounts.push({ type: 'bind', target: '/dev/pipes', source: dir, readonly: true });
      }
      const network = this.exec.network === 'none' ? 'none' : 'host';
      // HOME, when unset, comes from the user's passwd entry (the runner sets it, as runc does).
      const env = [...this.exec.env, ...this.env.proxyEnv];
      const spec: RunnerSpec = {
        version: 1,
        args: this.exec.args,
        env,
        cwd: this.exec.cwd,
        user: this.exec.user,
        hostname: 'buildkitsandbox',
        network,
        hosts: '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n',
        resolvConf: await hostResolvConf(),
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
      for (const release of views.reverse()) await release().catch(() => {});
    }
  }

  private async mountFor(
    m: PlannedMount,
    target: string,
    nextSource: () => Ref,
    views: Array<() => Promise<void>>,
  ): Promise<MountSpec> {
    const mount = m.mount;
    switch (mount.type) {
      case 'tmpfs':
        return { type: 'tmpfs', target, size: mount.size };
      case 'cache': {
        if (mount.from !== '') throw new BuildError('NOT_SUPPORTED', 'not supported yet: RUN --mount=type=cache with from=');
        const id = mount.id === '' ? target : mount.id;
        const dir = join(this.env.state.cacheMountsDir, createHash('sha256').update(id).digest('hex'));
        await mkdir(dir, { recursive: true });
        if (mount.mode !== undefined) await fsChmod(dir, mount.mode);
        if (mount.uid !== undefined || mount.gid !== undefined) await chown(dir, mount.uid ?? 0, mount.gid ?? 0);
        return { type: 'bind', target, source: dir, readonly: false };
      }
      case 'bind': {
        const sub = posix.join('/', mount.source);
        const local = localContextOf(this.env, m.source);
        if (local !== undefined) {
          return { type: 'bind', target, source: under(local.dir, sub), readonly: mount.readOnly };
        }
        // A stage or image: mount its merged view here (the runner's namespace copies ours).
        const ref = nextSource();
        const ready = await openView(this.env.state, ref.snapshot);
        views.push(ready.release);
        return { type: 'bind', target, source: under(ready.dir, sub), readonly: mount.readOnly };
      }
      case 'secret':
      case 'ssh':
        throw new BuildError('NOT_SUPPORTED', `not supported yet: RUN --mount=type=${mount.type}`, {
          hint: 'secret and ssh mounts arrive together with --secret and --ssh',
        });
    }
  }
}

/** `sub` (absolute, clean) below host directory `dir`, without a trailing slash (the runner wants clean paths). */
function under(dir: string, sub: string): string {
  return sub === '/' ? dir : join(dir, sub);
}

function mountKey(m: RunMount): unknown {
  if (m.type === 'cache') return { type: 'cache', target: m.target };
  return m;
}

async function emptyDir(state: State): Promise<string> {
  const dir = join(state.tmpDir, 'empty-lower');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A view kept mounted until released (for RUN bind mounts from stages). */
async function openView(state: State, snapshot: SnapshotName | null): Promise<{ dir: string; release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let ready!: (dir: string) => void;
  const dirP = new Promise<string>((r) => (ready = r));
  const done = withView(state, snapshot, async (dir) => {
    ready(dir);
    await released;
  });
  const dir = await Promise.race([dirP, done.then(() => '')]);
  return {
    dir,
    release: async () => {
      release();
      await done;
    },
  };
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
    const snapshot = await changeSnapshot(state, root.snapshot, async (dest) => {
      if (action.kind === 'mkdir') {
        await mkdirWorkdir(dest, action.path, { user: action.user });
        return;
      }
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
