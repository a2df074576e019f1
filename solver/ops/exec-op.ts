/** An exec (RUN): the command on a new snapshot of its root, through the build's executor. */
import { chmod as fsChmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join, posix } from 'node:path';
import { BuildError } from '../../errors/index.js';
import type { MountSpec } from '../../executor/index.js';
import { fileXattrs, writableOverlay } from '../../snapshotter/index.js';
import { digestOf, MAIN_CONTEXT, type CacheMap, type ExecContext, type ExecDescription, type InputKey, type MountDescription, type Op } from '../core/index.js';
import { checksumPaths } from './context/index.js';
import { envFields, specFields } from './key-fields.js';
import { contextXattrs } from './context-xattrs.js';
import type { Executor, LocalContext } from './deps.js';
import { cacheMountId, mountTarget, readsSource, StepMounts, type StepMountDeps } from './exec-mounts.js';
import { newActiveKey, newSnapshotName, withView } from './mounted.js';
import { readRecord, writeRecord } from './records.js';
import { materialize, type Ref } from './ref.js';

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

export interface ExecOpDeps extends StepMountDeps {
  readonly executor: Executor;
  /** Proxy build args: in the process's environment, never in a key. */
  readonly proxyEnv: readonly string[];
}

export class ExecOp implements Op<Ref> {
  readonly spec: unknown;
  private readonly exec: ExecDescription;
  constructor(
    private readonly deps: ExecOpDeps,
    exec: ExecDescription,
  ) {
    this.exec = exec;
    // Mount sources are inputs; cache-mount ids never change a result, so they stay out.
    // With ssh mounts, SSH_AUTH_SOCK names the first socket unless the step sets it (BuildKit).
    const ssh = exec.mounts.filter((m) => m.mount.type === 'ssh');
    if (ssh.length > 0 && !exec.env.some((e) => e.startsWith('SSH_AUTH_SOCK='))) {
      this.exec = { ...exec, env: [...exec.env, `SSH_AUTH_SOCK=${mountTarget(ssh[0]!.mount, exec.cwd, 0)!}`] };
    }
    // The key's encoding is the one earlier versions hashed: keep it byte for byte.
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

  /** The step's cache mounts: id, and whether it is seeded from= a stage or image. */
  cacheMounts(): { readonly id: string; readonly seeded: boolean }[] {
    return this.exec.mounts.flatMap((m) =>
      m.mount.type === 'cache' ? [{ id: cacheMountId(m.mount, mountTarget(m.mount, this.exec.cwd, 0)!), seeded: readsSource(m) }] : [],
    );
  }

  async cacheMap(cx: { signal: AbortSignal }): Promise<CacheMap<Ref>> {
    // A bind of a stage or image is keyed by the content of its source path, as BuildKit
    // keys it: a change elsewhere in that stage leaves the step cached.
    const inputs: InputKey<Ref>[] = [{ by: 'key' }];
    for (const m of this.exec.mounts) {
      if (!readsSource(m)) continue;
      const mount = m.mount;
      inputs.push(mount.type === 'bind' ? { by: 'content', checksum: (ref) => this.snapshotSum(ref, posix.join('/', mount.source), cx.signal) } : { by: 'key' });
    }
    const contexts = await this.boundContextSums(cx.signal);
    return { opDigest: digestOf(contexts.length === 0 ? this.spec : { op: this.spec, contexts }), inputs, explain: { fields: this.fields(contexts) } };
  }

  /** The key's explanation: each variable of the environment on its own, the rest of the spec, the bound contexts' sums. */
  private fields(contexts: readonly { readonly context: string; readonly sum: string }[]): Record<string, string> {
    const { env, args, ...rest } = this.spec as Record<string, unknown>;
    return {
      command: JSON.stringify(args),
      ...specFields(rest),
      ...envFields(env as readonly string[]),
      ...Object.fromEntries(contexts.map((c) => [`files of ${c.context}`, c.sum])),
    };
  }

  /**
   * The content checksum of `path` in a committed snapshot (owners included: a stage's files
   * keep theirs), computed once per snapshot and path: snapshots never change.
   */
  private async snapshotSum(input: Ref, path: string, signal: AbortSignal): Promise<string> {
    const { store } = this.deps;
    const ref = await materialize(input);
    const memo = `mount-sum\0${ref.snapshot ?? 'scratch'}\0${path}`;
    const known = await readRecord<{ sum: string }>(store.layerMetaDir, memo);
    if (known !== undefined) return known.sum;
    const sum = await withView(store, ref.snapshot, (root) =>
      checksumPaths(root, [path], { followLinks: true, includeOwnership: true, xattrs: fileXattrs, signal }).catch((e: unknown) => {
        if (!(e instanceof BuildError) || e.code !== 'COPY_FAILED') throw e;
        throw new BuildError('MOUNT_FAILED', e.message, { hint: 'a bind mount source is a path in its stage or image' });
      }),
    );
    await writeRecord(store.layerMetaDir, memo, { sum });
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
      if (m.mount.type !== 'bind' || m.source.kind !== 'local') continue;
      const local = this.deps.local(m.source.name);
      // The main context is keyed as 'context', a named one as `named:KEY` (as earlier versions keyed them).
      const name = m.source.name === MAIN_CONTEXT ? 'context' : `named:${m.source.name}`;
      let entry = selected.get(name);
      if (entry === undefined) selected.set(name, (entry = { local, paths: new Set() }));
      entry.paths.add(posix.join('/', m.mount.source));
    }
    if (selected.size === 0) return [];
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

  async execute(given: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { store } = this.deps;
    // The root and every mounted source are read as files.
    const inputs = await Promise.all(given.map(materialize));
    const root = inputs[0]!;
    const sources = inputs.slice(1);
    const key = newActiveKey();
    const rootMounts = await store.snapshots.prepare(key, root.snapshot ?? undefined);
    const stepMounts = new StepMounts(this.deps, this.exec.cwd, cx.signal);
    let script: string | undefined;
    try {
      // The root as the snapshotter mounts it; a step on scratch gets an empty lower layer.
      const layers = writableOverlay(rootMounts);
      const lowers = layers.lowers.length === 0 ? [await emptyDir(store.tmpDir)] : layers.lowers;
      let next = 0;
      for (const m of this.exec.mounts) await stepMounts.add(m, () => sources[next++]!);
      const mounts: MountSpec[] = [...stepMounts.mounts];
      if (this.exec.script !== undefined) {
        script = await writeScript(store.tmpDir, this.exec.script);
        mounts.push({ type: 'bind', target: '/dev/pipes', source: script, readonly: true });
      }
      // HOME, when unset, comes from the user's passwd entry (the runner sets it, as runc does).
      // Secrets given as variables replace a variable of the same name, in this run only.
      const secretNames = new Set(stepMounts.env.map((e) => e.slice(0, e.indexOf('='))));
      const env = [...this.exec.env, ...this.deps.proxyEnv].filter((e) => !secretNames.has(e.slice(0, e.indexOf('=')))).concat(stepMounts.env);
      const tail = new OutputTail(20);
      const { exitCode } = await this.deps.executor.run(
        {
          args: this.exec.args,
          env,
          cwd: this.exec.cwd,
          user: this.exec.user,
          network: this.exec.network,
          security: this.exec.security,
          rootfs: { lowers, upper: layers.upper, work: layers.work },
          mounts,
        },
        {
          stdout: (b) => {
            tail.push(b);
            cx.log(1, b);
          },
          stderr: (b) => {
            tail.push(b);
            cx.log(2, b);
          },
        },
        cx.signal,
      );
      if (exitCode !== 0) throw new RunFailedError(this.exec.args.join(' '), exitCode, tail.get());
      const name = newSnapshotName();
      await store.snapshots.commit(name, key);
      return { snapshot: name };
    } catch (e) {
      await store.snapshots.remove(key).catch(() => {});
      throw e;
    } finally {
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

function mountKey(m: MountDescription): unknown {
  // A cache starting from another stage keys on the path it starts from (the stage is an input).
  if (m.type === 'cache') return m.from === '' ? { type: 'cache', target: m.target } : { type: 'cache', target: m.target, source: m.source };
  return m;
}

async function emptyDir(tmpDir: string): Promise<string> {
  const dir = join(tmpDir, 'empty-lower');
  await mkdir(dir, { recursive: true });
  return dir;
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
