/**
 * A RUN step's `--mount`s, made ready on the host for the runner: bind sources, cache
 * directories (seeded, shared, private or locked), tmpfs, secrets and SSH agent sockets.
 * Everything set up here is undone by `release()` once the step has ended.
 *
 * Secrets are written to a tmpfs that only this process's private mount namespace sees (see
 * cli/mount-namespace.ts) and bound read-only at their target: their bytes never reach a disk,
 * a layer, the cache key, the progress output or an error message.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BuildError } from '../../errors/index.js';
import { serveAgentProxy, type MountSpec } from '../../executor/index.js';
import type { CacheMountDescription, ExecMount, MountDescription, SecretMountDescription, SshMountDescription } from '../core/index.js';
import { bindMount, fileXattrs, type SnapshotName } from '../../snapshotter/index.js';
import { fsPath, nameBytes } from '../../tarfs/index.js';
import { mountAt, unmount } from './mount.js';
import type { CacheMountRestorer, CacheMountSource, FileLocks, HeldFileLock, LocalContext, OpStore, SecretSources, SshSources } from './deps.js';
import { copy } from './file/index.js';
import type { SnapshotRef } from './ref.js';
import { newActiveKey, withView } from './mounted.js';
import { CONTEXT_BIND_PATH, contextSnapshot, resolveMountSource } from './bind-mounts.js';
import { hostPath } from './file/root-path.js';
import { cacheMountName } from './cache-mounts.js';

/** open(2)'s O_PATH: a descriptor that names a file without opening it (Linux's value; node:fs lacks it). */
const O_PATH = 0o10000000;

/** What a step's mounts are made of. */
export interface StepMountDeps {
  readonly store: OpStore;
  readonly locks: FileLocks;
  readonly local: (name: string) => LocalContext;
  readonly secrets?: SecretSources;
  readonly ssh?: SshSources;
  readonly cacheMountRestorer?: CacheMountRestorer;
}

/** BuildKit's secret id: `id`, else `source`, else the base name of the target. */
export function secretId(m: SecretMountDescription): string {
  if (m.source !== '') return m.source;
  if (m.id !== '') return m.id;
  return posix.basename(m.target);
}

/**
 * Where a mount appears in the container, absolute; undefined for a secret exposed only as an
 * environment variable. `sshIndex` counts the ssh mounts before this one.
 */
export function mountTarget(m: MountDescription, cwd: string, sshIndex: number): string | undefined {
  let target = m.target;
  if (target === '') {
    if (m.type === 'secret') {
      if (m.env !== undefined) return undefined;
      target = `/run/secrets/${posix.basename(secretId(m))}`;
    } else if (m.type === 'ssh') {
      target = `/run/buildkit/ssh_agent.${sshIndex}`;
    }
  }
  // Clean, as the runner wants it: no `.`, `..`, doubled or trailing slash.
  return posix.resolve(cwd, target);
}

/**
 * The mounts whose `from=` is an input of the step (a stage, an image, a named context that
 * is an image), in mount order. Local directories are read in place, not as inputs.
 */
export function readsSource(m: ExecMount): boolean {
  return m.source.kind === 'input';
}

/** The local directory a mount reads in place, if it reads one. */
function localOf(deps: StepMountDeps, m: ExecMount): LocalContext | undefined {
  return m.source.kind === 'local' ? deps.local(m.source.name) : undefined;
}

/** A cache mount's id: `id=`, else its target (absolute, clean). */
export function cacheMountId(mount: CacheMountDescription, target: string): string {
  return mount.id === '' ? target : mount.id;
}

export class StepMounts {
  /** For the runner, in mount order. */
  readonly mounts: MountSpec[] = [];
  /** NAME=VALUE of secrets exposed as environment variables. */
  readonly env: string[] = [];
  private readonly releases: Array<() => Promise<void>> = [];
  private secretsDir: string | undefined;
  private sshCount = 0;

  constructor(
    private readonly deps: StepMountDeps,
    private readonly cwd: string,
    private readonly signal: AbortSignal,
  ) {}

  /** Sets up one mount; `nextSource` yields the step's next mount input (see readsSource). */
  async add(m: ExecMount, nextSource: () => SnapshotRef): Promise<void> {
    const mount = m.mount;
    const target = mountTarget(mount, this.cwd, mount.type === 'ssh' ? this.sshCount++ : 0);
    switch (mount.type) {
      case 'tmpfs':
        this.mounts.push({ type: 'tmpfs', target: target!, size: mount.size });
        return;
      case 'cache':
        this.mounts.push({ type: 'bind', target: target!, source: await this.cacheSource(mount, target!, m, nextSource), readonly: mount.readOnly });
        return;
      case 'bind': {
        // A stage's or image's snapshot, or a local build context's path copied into one
        // (see bind-mounts.ts): its merged view mounted here (the runner's namespace copies
        // ours), writable into a throw-away layer for a rw bind.
        const local = localOf(this.deps, m);
        const sub = posix.join('/', mount.source);
        const snapshot = local === undefined ? nextSource().snapshot : await contextSnapshot(this.state, this.deps.locks, local, sub, this.signal);
        const dir = mount.readOnly ? await this.view(snapshot) : await this.scratchLayer(snapshot);
        const { abs } = await resolveMountSource(dir, local === undefined ? sub : CONTEXT_BIND_PATH);
        this.mounts.push({ type: 'bind', target: target!, source: abs, readonly: mount.readOnly });
        return;
      }
      case 'secret':
        await this.secret(mount, target);
        return;
      case 'ssh':
        await this.ssh(mount, target!);
        return;
    }
  }

  /** Undoes everything, last first; safe to call once whatever happened. */
  async release(): Promise<void> {
    for (const r of this.releases.splice(0).reverse()) await r().catch(() => {});
  }

  private get state(): OpStore {
    return this.deps.store;
  }

  /** A view kept mounted until release. */
  private async view(snapshot: SnapshotName | null): Promise<string> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let ready!: (dir: string) => void;
    const dirP = new Promise<string>((r) => (ready = r));
    const done = withView(this.state, snapshot, async (dir) => {
      ready(dir);
      await released;
    });
    const dir = await Promise.race([dirP, done.then(() => '')]);
    this.releases.push(async () => {
      release();
      await done;
    });
    return dir;
  }

  /**
   * A new active snapshot on `snapshot`, mounted writable until release and then removed:
   * a rw bind's writes land there, never in the stage's own snapshot.
   */
  private async scratchLayer(snapshot: SnapshotName | null): Promise<string> {
    const { snapshots, tmpDir } = this.state;
    const key = newActiveKey();
    const mounts = await snapshots.prepare(key, snapshot ?? undefined);
    this.releases.push(() => snapshots.remove(key));
    const dir = join(tmpDir, `mnt-${randomUUID()}`);
    await mkdir(dir);
    this.releases.push(() => rm(dir, { recursive: true, force: true }));
    mountAt(mounts, dir);
    this.releases.push(async () => unmount(dir, { detach: true }));
    return dir;
  }

  private async secret(mount: SecretMountDescription, target: string | undefined): Promise<void> {
    const id = secretId(mount);
    const read = this.deps.secrets?.get(id);
    if (read === undefined) {
      if (!mount.required) return; // an optional secret nobody gave: no file, no variable
      throw new BuildError('SECRET_NOT_FOUND', `secret ${id}: not found`, {
        hint: `pass it with --secret id=${id},src=FILE or --secret id=${id},env=VARIABLE`,
      });
    }
    const value = await read();
    if (mount.env !== undefined) {
      if (mount.env === '' || mount.env.includes('=')) {
        throw new BuildError('BAD_FLAG', `secret ${id}: env=${mount.env} is not a valid environment variable name`);
      }
      if (value.includes(0)) throw new BuildError('BAD_FLAG', `secret ${id} holds a NUL byte and cannot be an environment variable`);
      this.env.push(`${mount.env}=${Buffer.from(value).toString('utf8')}`);
    }
    if (target === undefined) return;
    const dir = await this.secretsTmpfs();
    const file = join(dir, `secret-${this.mounts.length}`);
    // Written where only our namespace sees it; owner and mode as BuildKit sets them.
    await writeFile(file, value, { mode: 0o600 });
    await chown(file, mount.uid ?? 0, mount.gid ?? 0);
    await chmod(file, mount.mode ?? 0o400);
    this.mounts.push({ type: 'bind', target, source: file, readonly: true });
  }

  /** One private tmpfs per step for its secret files, unmounted and removed on release. */
  private async secretsTmpfs(): Promise<string> {
    if (this.secretsDir !== undefined) return this.secretsDir;
    const dir = join(this.state.tmpDir, `secrets-${randomUUID()}`);
    await mkdir(dir, { mode: 0o700 });
    this.releases.push(() => rm(dir, { recursive: true, force: true }));
    mountAt([{ type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=0700'] }], dir);
    this.releases.push(async () => unmount(dir, { detach: true }));
    this.secretsDir = dir;
    return dir;
  }

  private async ssh(mount: SshMountDescription, target: string): Promise<void> {
    const id = mount.id === '' ? 'default' : mount.id;
    const agent = this.deps.ssh?.get(id);
    if (agent === undefined) {
      if (!mount.required) return;
      throw new BuildError('SSH_NOT_FOUND', `no SSH agent with id "${id}" was given`, {
        hint: id === 'default' ? 'forward your agent with --ssh default' : `forward an agent with --ssh ${id}=SOCKET`,
      });
    }
    // A short name: a socket path must fit in 108 bytes.
    const dir = join(this.state.tmpDir, `ssh-${randomUUID().slice(0, 8)}`);
    await mkdir(dir, { mode: 0o700 });
    this.releases.push(() => rm(dir, { recursive: true, force: true }));
    const proxy = await serveAgentProxy(agent, join(dir, 'agent.sock'), {
      uid: mount.uid ?? 0,
      gid: mount.gid ?? 0,
      mode: mount.mode ?? 0o600,
    });
    this.releases.push(() => proxy.close());
    this.mounts.push({ type: 'bind', target, source: proxy.path, readonly: false });
  }

  /**
   * What a cache mount shows: as BuildKit does, its `source=` path (the cache's root when
   * none), and `uid`/`gid`/`mode` set on the cache's root only when there is no `source=`
   * (BuildKit applies them to the root it makes for a cache and leaves a `source=` path as it
   * is). A cache seeded `from=` a stage or image holds that source path itself (see cacheDir).
   */
  private async cacheSource(mount: CacheMountDescription, target: string, m: ExecMount, nextSource: () => SnapshotRef): Promise<string> {
    const dir = await this.cacheDir(mount, target, m, nextSource);
    const sub = posix.join('/', mount.source);
    if (sub === '/') {
      if (mount.mode !== undefined) await chmod(dir, mount.mode);
      if (mount.uid !== undefined || mount.gid !== undefined) await chown(dir, mount.uid ?? 0, mount.gid ?? 0);
      return dir;
    }
    return readsSource(m) ? dir : this.cachePath(dir, sub);
  }

  /**
   * `sub` of a cache directory, bound at a mount point of ours for the runner. It is resolved
   * inside the cache (a symlink an earlier step left there is followed inside it, never out),
   * opened, checked to be that very path, and bound through its descriptor: a symlink swapped
   * in meanwhile by a step that shares the cache cannot take the mount outside either. A
   * missing path is an error, as in BuildKit (which creates none).
   */
  private async cachePath(dir: string, sub: string): Promise<string> {
    const root = await realpath(dir);
    const { rel, isDir } = await resolveMountSource(root, sub, {
      what: 'cache mount source',
      hint: "a cache mount's source= is a path inside the cache, made by an earlier step that used it",
    });
    const path = hostPath(root, rel);
    const fd = openSync(fsPath(path), O_PATH);
    try {
      const proc = `/proc/self/fd/${fd}`;
      if (!readlinkSync(proc, { encoding: 'buffer' }).equals(nameBytes(path))) {
        throw new BuildError('MOUNT_FAILED', `cache mount source ${JSON.stringify(sub)} changed while it was being mounted`, {
          hint: 'another step using the same cache replaced it; run the build again',
        });
      }
      const point = join(this.state.tmpDir, `cache-${randomUUID()}`);
      if (isDir) await mkdir(point);
      else await writeFile(point, '');
      this.releases.push(() => rm(point, { recursive: true, force: true }));
      mountAt([bindMount(proc, false)], point);
      this.releases.push(async () => unmount(point, { detach: true }));
      return point;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The host directory of a cache mount. Its name follows BuildKit's cache key: the id, and
   * with `from=` the source it starts from, so another source starts another cache.
   */
  private async cacheDir(mount: CacheMountDescription, target: string, m: ExecMount, nextSource: () => SnapshotRef): Promise<string> {
    const id = cacheMountId(mount, target);
    if (mount.from !== '' && !readsSource(m)) {
      throw new BuildError('NOT_SUPPORTED', `not supported yet: a cache mount from= a local build context (${mount.from})`, {
        hint: 'seed the cache from a stage that copies the directory',
      });
    }
    let seed: ((into: string) => Promise<void>) | undefined;
    let source: CacheMountSource | undefined;
    let name = cacheMountName(id);
    if (readsSource(m)) {
      const from = nextSource();
      const sub = posix.join('/', mount.source);
      name = cacheMountName(id, { snapshot: from.snapshot ?? 'scratch', path: sub });
      seed = (into) => this.seedCache(from.snapshot, sub, into);
      source = { snapshot: from.snapshot, path: sub };
    }
    const base = join(this.state.cacheMountsDir, name);
    let dir = base;
    switch (mount.sharing) {
      case 'shared':
        break;
      case 'locked': {
        // One step at a time, in this process or another, until this step ends.
        this.hold(await this.deps.locks.hold(`${base}.lock`, { signal: this.signal }));
        break;
      }
      case 'private': {
        // The first directory of this cache nobody holds; a new one when every one is held.
        for (let n = 0; ; n++) {
          const candidate = n === 0 ? base : `${base}.${n}`;
          const lock = await this.deps.locks.tryHold(`${candidate}.lock`);
          if (lock === undefined) continue;
          this.hold(lock);
          dir = candidate;
          break;
        }
        break;
      }
    }
    // A cache this machine lacks starts from the imported content, if any, else as it would
    // (empty, or its seed); only its first directory (a private cache's others start empty).
    const restorer = this.deps.cacheMountRestorer;
    if (dir === base && restorer?.has(id) === true) {
      const fresh = seed;
      seed = async (into) => {
        if (!(await restorer.restore(id, source, into, this.signal))) await fresh?.(into);
      };
    }
    if (dir === base && source !== undefined) restorer?.seededDir(id, source, dir);
    await ensureCacheDir(this.deps.locks, dir, seed);
    return dir;
  }

  private hold(lock: HeldFileLock): void {
    this.releases.push(() => lock.release());
  }

  /** Copies `sub` of a stage's or image's files (resolved inside them) into a new cache directory. */
  private async seedCache(snapshot: SnapshotName | null, sub: string, into: string): Promise<void> {
    await withView(this.state, snapshot, async (root) => {
      const { rel, abs, isDir } = await resolveMountSource(root, sub, {
        what: 'cache mount source',
        hint: "a cache mount's source= with from= is a directory in that stage or image",
      });
      if (!isDir) throw new BuildError('MOUNT_FAILED', `cache mount source ${JSON.stringify(sub)} is not a directory`);
      // The mount shows that directory itself: its owner and mode too.
      const info = await lstat(abs);
      await chown(into, info.uid, info.gid);
      await chmod(into, info.mode & 0o7777);
      if ((await readdir(abs)).length === 0) return;
      await copy({
        destRoot: into,
        dest: '/',
        workdir: '/',
        source: { root, ownership: 'keep' },
        sources: [`/${rel}`],
        xattrs: fileXattrs,
        signal: this.signal,
      });
    });
  }
}

/**
 * Makes a cache directory exist, seeded once: the seed is copied beside it and renamed into
 * place, under a lock, so concurrent steps see an empty name or the whole seed, never a part.
 */
async function ensureCacheDir(locks: FileLocks, dir: string, seed: ((into: string) => Promise<void>) | undefined): Promise<void> {
  const exists = async () => (await stat(dir).catch(() => undefined)) !== undefined;
  if (await exists()) return;
  if (seed === undefined) {
    await mkdir(dir, { recursive: true });
    return;
  }
  await locks.withLock(`${dir}.create`, async () => {
    if (await exists()) return;
    const temp = `${dir}.seed-${randomUUID()}`;
    await mkdir(temp, { mode: 0o755 });
    try {
      await seed(temp);
      await rename(temp, dir);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });
}
