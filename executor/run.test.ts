/**
 * runProcess with the real runner: real namespaces, real overlayfs, a busybox root. Needs root
 * (as CI has) and the runner built (npm ci); without either the tests fail, never skip.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isBuildError } from '../errors/index.js';
import { makeBusyboxRootfs } from '../test/support/rootfs.js';
import { RUNNER_SPEC_VERSION, runProcess, runnerBinaryPath } from './index.js';
import type { MountSpec, RunnerSpec } from './index.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Every command carries it in its environment, so a survivor on the host can be found. */
const TEST_TAG = `TSBUILD_RUNNER_TEST=${randomUUID()}`;

let base: string;
let busyboxLayer: string;
let runCount = 0;

interface Ran {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly upper: string;
}

type Overrides = Partial<Omit<RunnerSpec, 'version' | 'args'>> & { readonly signal?: AbortSignal };

async function freshOverlay(lowers: readonly string[]): Promise<RunnerSpec['rootfs']> {
  const dir = join(base, 'runs', String(++runCount));
  await mkdir(join(dir, 'upper'), { recursive: true });
  await mkdir(join(dir, 'work'), { recursive: true });
  return { lowers, upper: join(dir, 'upper'), work: join(dir, 'work') };
}

async function run(args: readonly string[], over: Overrides = {}): Promise<Ran> {
  const { signal, ...fields } = over;
  const spec: RunnerSpec = {
    version: RUNNER_SPEC_VERSION,
    args,
    env: [PATH, TEST_TAG],
    cwd: '/',
    user: '',
    hostname: 'tsbuild-test',
    network: 'none',
    hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    resolvConf: 'nameserver 192.0.2.53\n',
    security: 'sandbox',
    rootfs: fields.rootfs ?? (await freshOverlay([busyboxLayer])),
    mounts: [],
    ...fields,
  };
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const { exitCode } = await runProcess(spec, {
    stdout: (b) => out.push(b),
    stderr: (b) => err.push(b),
    ...(signal ? { signal } : {}),
  });
  return {
    exitCode,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    upper: spec.rootfs.upper,
  };
}

const sh = (script: string, over: Overrides = {}): Promise<Ran> => run(['sh', '-c', script], over);

/** Every path under dir, relative, sorted. */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await tree(join(dir, entry.name), rel + '/')));
  }
  return out.sort();
}

async function runnerError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (isBuildError(e) && e.code === 'RUNNER_ERROR') return e.message;
    throw e;
  }
  throw new Error('expected a RUNNER_ERROR');
}

// ---- leak checks after every test ----

function ourMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => {
      const mountPoint = line.split(' ')[4] ?? '';
      return (
        line.includes(base) ||
        line.includes('tsbuild-runner') ||
        mountPoint === '/tmp' ||
        mountPoint.startsWith('/tmp/newroot') ||
        mountPoint.startsWith('/tmp/oldroot')
      );
    });
}

/** Host processes that are the runner or a command it started. */
function survivors(): string[] {
  const runner = runnerBinaryPath();
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`);
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (exe === runner || environ.includes(TEST_TAG)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ')}`);
      }
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

let mountsBefore: string[] = [];

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the runner tests need root (CI runs as root)');
  if (!existsSync(runnerBinaryPath())) {
    throw new Error(`the native runner is not built (${runnerBinaryPath()}): run npm ci`);
  }
  base = await mkdtemp(join(tmpdir(), 'tsbuild-runner-test-'));
  busyboxLayer = await makeBusyboxRootfs(join(base, 'busybox'));
});

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

beforeEach(() => {
  mountsBefore = ourMounts();
});

afterEach(async () => {
  // An aborted run's namespace dies just after the runner: allow it a moment.
  let left = survivors();
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = survivors();
  }
  expect(left, 'runner processes left on the host').toEqual([]);
  expect(ourMounts(), 'mounts left on the host').toEqual(mountsBefore);
});

describe('runProcess', () => {
  describe('output and exit status', () => {
    it('streams stdout and stderr apart and returns 0', async () => {
      const r = await sh('echo hello; echo oops >&2');
      expect(r).toMatchObject({ exitCode: 0, stdout: 'hello\n', stderr: 'oops\n' });
    });

    it('returns the exit code', async () => {
      expect((await sh('exit 3')).exitCode).toBe(3);
    });

    it('returns 128 + n when signal n ends the command', async () => {
      expect((await sh('kill -9 $$')).exitCode).toBe(137);
      expect((await sh('kill -TERM $$')).exitCode).toBe(143);
    });

    it('reports a command missing from PATH as a runner error', async () => {
      expect(await runnerError(run(['no-such-command']))).toBe(
        'exec: "no-such-command": executable file not found in $PATH',
      );
    });
  });

  describe('environment, working directory, user', () => {
    it('sets exactly the given environment, plus HOME from passwd when it has none (as runc)', async () => {
      const r = await run(['env'], { env: [PATH, TEST_TAG, 'FOO=bar baz', 'EMPTY='] });
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([PATH, TEST_TAG, 'EMPTY=', 'FOO=bar baz', 'HOME=/root'].sort());
      const given = await run(['env'], { env: [PATH, TEST_TAG, 'HOME=/elsewhere'] });
      expect(given.stdout.split('\n').filter(Boolean).sort()).toEqual([PATH, TEST_TAG, 'HOME=/elsewhere'].sort());
      const unknownUid = await run(['sh', '-c', 'echo $HOME'], { env: [PATH, TEST_TAG], user: '4321' });
      expect(unknownUid.stdout).toBe('/\n');
    });

    it('runs in the working directory, created owned by root when missing', async () => {
      const r = await run(['pwd'], { cwd: '/srv/app/src' });
      expect(r.stdout).toBe('/srv/app/src\n');
      const st = await stat(join(r.upper, 'srv/app/src'));
      expect([st.isDirectory(), st.uid, st.gid]).toEqual([true, 0, 0]);
    });

    // BuildKit's executor lists the primary group among the groups (first, unless already
    // there), with supplementary groups from /etc/group only in the implicit form.
    it('resolves a user by name, with its primary group and the groups /etc/group lists it in', async () => {
      const r = await sh('id; cat /proc/self/status | grep ^Groups', { user: 'app' });
      expect(r.stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\nGroups:\t1000 2000 \n');
      const byUid = await sh('id', { user: '1000' });
      expect(byUid.stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n');
      const root = await sh('id');
      expect(root.stdout).toBe('uid=0(root) gid=0(root) groups=0(root)\n');
    });

    it('takes uid:gid as given, with the primary group as the only group', async () => {
      expect((await sh('id', { user: '1234:5678' })).stdout).toBe('uid=1234 gid=5678 groups=5678\n');
      // Numeric on both sides: no lookup, so app's supplementary group is not added.
      expect((await sh('id', { user: '1000:1000' })).stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\n');
      expect((await sh('id', { user: 'app:extra' })).stdout).toBe('uid=1000(app) gid=2000(extra) groups=2000(extra)\n');
      expect((await sh('id', { user: '4321' })).stdout).toBe('uid=4321 gid=0(root) groups=0(root)\n');
    });

    it('runs as root with Docker default capabilities, and a user without any', async () => {
      const root = await sh('grep -E "^Cap(Eff|Bnd|Amb)" /proc/self/status');
      expect(root.stdout).toBe('CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n');
      const app = await sh('grep -E "^Cap(Eff|Bnd)" /proc/self/status', { user: 'app' });
      expect(app.stdout).toBe('CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n');
    });

    it('fails clearly on an unknown user or group', async () => {
      expect(await runnerError(sh('true', { user: 'nosuch' }))).toBe(
        'unable to find user nosuch: no matching entries in passwd file',
      );
      expect(await runnerError(sh('true', { user: 'app:nogroup-here' }))).toBe(
        'unable to find group nogroup-here: no matching entries in group file',
      );
    });
  });

  describe('hostname, hosts, network', () => {
    it('sets the hostname and /etc/hostname', async () => {
      const r = await sh('hostname; cat /etc/hostname', { hostname: 'builder-7' });
      expect(r.stdout).toBe('builder-7\nbuilder-7\n');
    });

    it('serves /etc/hosts and /etc/resolv.conf from the spec', async () => {
      const r = await sh('cat /etc/hosts; echo --; cat /etc/resolv.conf', {
        hosts: '127.0.0.1 localhost\n10.0.0.1 registry\n',
        resolvConf: 'nameserver 10.0.0.53\nsearch example\n',
      });
      expect(r.stdout).toBe('127.0.0.1 localhost\n10.0.0.1 registry\n--\nnameserver 10.0.0.53\nsearch example\n');
    });

    it('network none has only lo, up; host has the host interfaces', async () => {
      const none = await sh('ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags');
      expect(none.stdout.split('\n')[0]).toBe('lo');
      expect(Number(none.stdout.trim().split('\n').at(-1)) & 1).toBe(1); // IFF_UP
      const host = await sh('ls /sys/class/net', { network: 'host' });
      expect(host.stdout.split('\n').filter(Boolean).sort()).toEqual(readdirSync('/sys/class/net').sort());
    });

    it('joins a network namespace a holder keeps (--hold-netns), and refuses a file that is none', async () => {
      const holder = spawn(runnerBinaryPath(), ['--hold-netns'], { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout!.once('data', (d: Buffer) => (d.toString() === 'ready\n' ? resolve() : reject(new Error(d.toString()))));
          holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
        });
        const netns = `/proc/${holder.pid!}/ns/net`;
        const joined = await sh('readlink /proc/self/ns/net; ls /sys/class/net', { network: { join: netns } });
        expect(joined.stdout).toBe(`${readlinkSync(netns)}\nlo\n`);
        expect(readlinkSync(netns)).not.toBe(readlinkSync('/proc/self/ns/net'));
        const other = `/proc/${holder.pid!}/ns/uts`;
        expect(await runnerError(sh('true', { network: { join: other } }))).toBe(`joining the build's network namespace ${other}: Invalid argument`);
      } finally {
        const exited = new Promise((resolve) => holder.once('exit', resolve));
        holder.stdin!.end(); // end of file: the holder leaves, and its namespace with it
        await exited;
      }
    });
  });

  describe('the layer', () => {
    it('gets exactly what the command wrote: no mount points, no /etc/hosts', async () => {
      const r = await sh('echo x > /hello; mkdir /data; echo y > /data/f; echo z > /etc/added');
      expect(await tree(r.upper)).toEqual(['data', 'data/f', 'etc', 'etc/added', 'hello']);
    });

    it('stays empty for a command that writes nothing, even on a root without /etc, /proc, /dev', async () => {
      const bare = join(base, 'bare');
      await mkdir(join(bare, 'bin'), { recursive: true });
      await writeFile(join(bare, 'bin/busybox'), readFileSync('/usr/bin/busybox'));
      await chmod(join(bare, 'bin/busybox'), 0o755);
      const rootfs = await freshOverlay([bare]);
      const before = await stat(rootfs.upper);
      const r = await run(['/bin/busybox', 'true'], { rootfs, mounts: [{ type: 'tmpfs', target: '/a/b', size: 0 }] });
      expect(r.exitCode).toBe(0);
      expect(await tree(r.upper)).toEqual([]);
      expect((await stat(rootfs.upper)).mtimeMs).toBe(before.mtimeMs);
    });

    it('keeps a runner-made directory the command wrote into', async () => {
      const bare = join(base, 'bare2');
      await mkdir(join(bare, 'bin'), { recursive: true });
      await writeFile(join(bare, 'bin/busybox'), readFileSync('/usr/bin/busybox'));
      await chmod(join(bare, 'bin/busybox'), 0o755);
      const r = await run(['/bin/busybox', 'sh', '-c', 'echo 1 > /etc/mine'], { rootfs: await freshOverlay([bare]) });
      expect(await tree(r.upper)).toEqual(['etc', 'etc/mine']);
    });

    it('writes a 200 MB file', async () => {
      const r = await sh('dd if=/dev/zero of=/big bs=1048576 count=200 2>/dev/null && echo ok');
      expect(r.stdout).toBe('ok\n');
      expect((await stat(join(r.upper, 'big'))).size).toBe(200 * 1024 * 1024);
      await rm(join(r.upper, 'big'));
    });

    /** 120 layers, each with /l/<i>, under a long directory name: beyond the option limit. */
    async function deepLayers(name: string): Promise<{ dir: string; lowers: string[] }> {
      const dir = join(base, name, 'a-rather-long-directory-name-to-make-every-path-long');
      const lowers: string[] = [];
      for (let i = 0; i < 120; i++) {
        const layer = join(dir, `layer-${i}`);
        await mkdir(join(layer, 'l'), { recursive: true });
        await writeFile(join(layer, 'l', String(i)), '');
        lowers.unshift(layer);
      }
      expect(lowers.join(':').length).toBeGreaterThan(4096);
      return { dir, lowers };
    }
    const lowerdirShown = 'sed -n "1s/.*lowerdir=\\([^:,]*\\).*/\\1/p" /proc/self/mountinfo; ls /l | wc -l';

    it('names a deep stack of lower dirs relative to their common parent', async () => {
      const { dir, lowers } = await deepLayers('deep-relative');
      const busybox = await makeBusyboxRootfs(join(dir, 'busybox'));
      const r = await sh(lowerdirShown, { rootfs: await freshOverlay([...lowers, busybox]) });
      expect(r.stdout).toBe('layer-119\n120\n');
    });

    it('names lower dirs by fd when even relative paths are too long', async () => {
      const { lowers } = await deepLayers('deep-fd');
      const r = await sh(lowerdirShown, { rootfs: await freshOverlay([...lowers, busyboxLayer]) });
      expect(r.stdout).toMatch(/^\d+\n120\n$/);
    });
  });

  describe('mounts', () => {
    it('binds a host directory read-only, or read-write', async () => {
      const src = join(base, 'bind-src');
      await mkdir(src, { recursive: true });
      await writeFile(join(src, 'file'), 'from host\n');
      const mounts: MountSpec[] = [
        { type: 'bind', source: src, target: '/ro', readonly: true },
        { type: 'bind', source: src, target: '/rw', readonly: false },
      ];
      const r = await sh('cat /ro/file; touch /ro/x 2>/dev/null || echo denied; echo w > /rw/written', { mounts });
      expect(r.stdout).toBe('from host\ndenied\n');
      expect(readFileSync(join(src, 'written'), 'utf8')).toBe('w\n');
      expect(await tree(r.upper)).toEqual([]);
    });

    it('mounts a tmpfs of the given size, kept out of the layer', async () => {
      const r = await sh('echo x > /cache/f; df -k /cache | tail -1', {
        mounts: [{ type: 'tmpfs', target: '/cache', size: 8 * 1024 * 1024 }],
      });
      expect(r.stdout.trim().split(/\s+/)[1]).toBe('8192');
      expect(await tree(r.upper)).toEqual([]);
    });

    it('mounts an overlay whose upper dir keeps the writes', async () => {
      const cache = await freshOverlay([]);
      const r = await sh('echo kept > /var/cache/x', {
        mounts: [{ type: 'overlay', target: '/var/cache', ...cache }],
      });
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(cache.upper, 'x'), 'utf8')).toBe('kept\n');
      expect(await tree(r.upper)).toEqual([]);
    });
  });

  describe('security', () => {
    it('does not show the host', async () => {
      const marker = `tsbuild-marker-${randomUUID()}`;
      await writeFile(join(tmpdir(), marker), 'secret');
      try {
        const r = await sh(
          `test -e /tmp/${marker} && echo visible; test -e /oldroot -o -e /newroot && echo base; ` +
            `find / -path /proc -prune -o -path /sys -prune -o -name ${marker} -print`,
        );
        expect(r.stdout).toBe('');
      } finally {
        await rm(join(tmpdir(), marker));
      }
    });

    it('cannot mount (no CAP_SYS_ADMIN)', async () => {
      const r = await sh('mkdir -p /mnt && mount -t tmpfs none /mnt');
      expect(r.exitCode).not.toBe(0);
    });

    it('masks /proc/kcore and keeps /proc/sys and /sys read-only', async () => {
      const r = await sh(
        'echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c); ' +
          'echo x > /proc/sys/kernel/hostname || echo sys-ro; echo x > /proc/sysrq-trigger || echo sysrq-ro; ' +
          'touch /sys/x || echo sysfs-ro; ls /proc/acpi 2>/dev/null | wc -l',
      );
      expect(r.stdout).toBe('kcore=0\nsys-ro\nsysrq-ro\nsysfs-ro\n0\n');
      expect(r.stderr).toContain('Read-only file system');
    });

    it('runs as root with no inheritable capabilities in the sandbox (containerd\'s default spec)', async () => {
      expect((await sh('grep ^CapInh /proc/self/status')).stdout).toBe('CapInh:\t0000000000000000\n');
    });

    describe('insecure', () => {
      const all = () => readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\t([0-9a-f]+)$/m)![1]!;

      it('gives every capability the builder holds, to root and to a non-root user (ambient)', async () => {
        const caps = all();
        const root = await sh('grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status', { security: 'insecure' });
        expect(root.stdout).toBe(['Inh', 'Prm', 'Eff', 'Bnd', 'Amb'].map((k) => `Cap${k}:\t${caps}\n`).join(''));
        const app = await sh('id -u; grep -E "^Cap(Eff|Amb)" /proc/self/status', { security: 'insecure', user: 'app' });
        expect(app.stdout).toBe(`1000\nCapEff:\t${caps}\nCapAmb:\t${caps}\n`);
      });

      it('masks nothing, leaves /proc/sys and /sys writable and makes the extra devices', async () => {
        const r = await sh(
          'mount -t tmpfs none /tmp && echo mounted; ' +
            'test $(wc -c < /proc/timer_list) -gt 0 && echo timer_list-unmasked; ' +
            'grep -q "^sysfs /sys sysfs rw" /proc/mounts && echo sysfs-rw; grep -q " /proc/sys " /proc/mounts || echo proc-sys-unbound; ' +
            'for d in kmsg fuse cuse kvm net/tun loop-control; do test -c /dev/$d || echo missing $d; done; ' +
            'test -b /dev/loop0 -a -b /dev/loop7 && echo loops',
          { security: 'insecure' },
        );
        expect(r.stdout).toBe('mounted\ntimer_list-unmasked\nsysfs-rw\nproc-sys-unbound\nloops\n');
        expect(await tree(r.upper)).toEqual([]);
      });
    });

    it('kills what the command leaves in the background', async () => {
      const marker = `bg-${randomUUID()}`;
      const r = await sh(`sh -c 'sleep 1000; : ${marker}' & echo started`);
      expect(r.stdout).toBe('started\n');
      const alive = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(marker);
          } catch {
            return false;
          }
        });
      expect(alive).toEqual([]);
    });

    it('survives a command forking 1000 processes', async () => {
      const r = await sh('i=0; while [ $i -lt 1000 ]; do sleep 0 & i=$((i+1)); done; wait; echo done');
      expect(r).toMatchObject({ exitCode: 0, stdout: 'done\n' });
    });
  });

  describe('the runner itself', () => {
    it('runs several at once', async () => {
      const runs = await Promise.all([1, 2, 3, 4].map((n) => sh(`echo ${n} > /n; cat /n`, { hostname: `h${n}` })));
      expect(runs.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n']);
    });

    it('dies with its namespace on abort', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stop')), 300);
      await expect(sh('sleep 1000', { signal: controller.signal })).rejects.toThrow('stop');
    });

    it('rejects an already-aborted signal before starting', async () => {
      await expect(sh('true', { signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow('early');
    });

    it('forwards SIGTERM to the command and returns its status', async () => {
      const spec: RunnerSpec = {
        version: RUNNER_SPEC_VERSION,
        args: ['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'],
        env: [PATH, TEST_TAG],
        cwd: '/',
        user: '',
        hostname: 'h',
        network: 'none',
        hosts: '',
        resolvConf: '',
        security: 'sandbox',
        rootfs: await freshOverlay([busyboxLayer]),
        mounts: [],
      };
      const child = spawn(runnerBinaryPath(), [], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
      const { stdin, stdout } = child;
      if (stdin === null || stdout === null) throw new Error('spawn gave no pipes');
      stdin.end(JSON.stringify(spec));
      let out = '';
      let outcome = '';
      child.stdio[3]?.on('data', (b: Buffer) => (outcome += b.toString()));
      const code = await new Promise<number | null>((resolve) => {
        stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out === 'ready\n') child.kill('SIGTERM');
        });
        child.on('close', (c) => resolve(c));
      });
      expect([out, outcome, code]).toEqual(['ready\ngot-term\n', '{"exit":7}\n', 7]);
    });

    it('reaps orphaned zombies as PID 1', async () => {
      // The orphans' parent is init; none of them may stay a zombie. The command is PID 2.
      const r = await sh('(true &); (true &); sleep 0.3; echo $$; grep -l "^State:.*Z" /proc/[0-9]*/status; true');
      expect(r.stdout).toBe('2\n');
    });

    it('reports a setup error and leaves no mount point behind', async () => {
      const rootfs = await freshOverlay([busyboxLayer]);
      const message = await runnerError(
        run(['true'], { rootfs, mounts: [{ type: 'bind', source: join(base, 'missing'), target: '/x', readonly: true }] }),
      );
      expect(message).toBe(`bind mount on /x: source ${join(base, 'missing')}: No such file or directory`);
      expect(await tree(rootfs.upper)).toEqual([]);
    });

    it('refuses another spec version, naming the stale runner', async () => {
      const spec = { version: 1, args: ['true'] } as unknown as RunnerSpec;
      expect(await runnerError(runProcess(spec, {}))).toMatch(new RegExp(`version 1 does not match the runner's version ${RUNNER_SPEC_VERSION}:`));
    });

    it('refuses unknown keys', async () => {
      const rootfs = await freshOverlay([busyboxLayer]);
      const spec = {
        version: RUNNER_SPEC_VERSION, args: ['true'], env: [], cwd: '/', user: '', hostname: 'h', network: 'none', hosts: '',
        resolvConf: '', security: 'sandbox', rootfs, mounts: [], privileged: true,
      } as unknown as RunnerSpec;
      expect(await runnerError(runProcess(spec, {}))).toBe('runner spec: unknown key "privileged" in the spec');
    });
  });
});
