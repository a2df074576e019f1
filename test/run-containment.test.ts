// What a RUN step cannot reach, tried as an attacker would, end to end through the CLI on the
// busybox base: descriptors the caller of tsbuild left open, host devices made with mknod, and
// the system calls Docker's default seccomp profile denies. Each step records what it saw into
// the image; the host side (a canary directory, a host-only file) is checked untouched.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { buildWorkspace } from './support/build-workspace.js';
import { mountsUnder, run, TSBUILD } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

const { work, root, build, buildToDir } = buildWorkspace('tsbuild-containment-');

/**
 * A probe compiled at setup (gcc -static) and copied into the image: each argument names a
 * system call made with harmless arguments; it prints "name: ok" or "name: ERRNO".
 */
const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/reboot.h>

static long probe(const char *name) {
  if (!strcmp(name, "unshare-user")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "unshare-mount")) return unshare(CLONE_NEWNS);
  if (!strcmp(name, "clone-newuser")) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid < 0 ? -1 : 0;
  }
  if (!strcmp(name, "clone3")) return syscall(SYS_clone3, NULL, 0);
  if (!strcmp(name, "mount")) return mount("none", "/mnt", "tmpfs", 0, NULL);
  if (!strcmp(name, "umount")) return umount2("/proc", MNT_DETACH);
  if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/nonexistent", 0);
  if (!strcmp(name, "reboot")) return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, 0);
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
  if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "tsbuild-probe", "x", 1, -2);
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0, -2, 0);
  if (!strcmp(name, "personality")) return syscall(SYS_personality, ADDR_NO_RANDOMIZE);
  if (!strcmp(name, "socket-vsock")) return socket(40, SOCK_STREAM, 0);
  if (!strcmp(name, "ptrace-init")) return ptrace(PTRACE_ATTACH, 1, NULL, NULL);
  if (!strcmp(name, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
  if (!strcmp(name, "call-1000")) return syscall(1000, 0, 0, 0); /* no such call, on any kernel */
  fprintf(stderr, "unknown probe %s\n", name);
  _exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    errno = 0;
    long r = probe(argv[i]);
    printf("%s: %s\n", argv[i], r < 0 ? strerrorname_np(errno) : "ok");
  }
  return 0;
}
`;

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

describe.skipIf(!isRoot && !isCI)('RUN containment, end to end', () => {
  beforeAll(async () => {
    const base = await busyboxBaseContext(join(work, 'base'), ['COPY probe /bin/probe']);
    writeFileSync(join(work, 'probe.c'), PROBE_C);
    const cc = run('gcc', ['-static', '-O2', '-o', join(base, 'probe'), join(work, 'probe.c')]);
    if (cc.status !== 0) throw new Error(`compiling the probe: ${cc.stderr}`);
    expectOk(build(base, ['-t', 'busybox:test']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('descriptors the caller of tsbuild left open do not reach RUN', () => {
    // The host side, at numbers a shell's `exec 78</dir` would use (and Node's own spawn passes
    // on): a canary directory, a host-only file, a log opened for appending, another directory.
    const canary = join(work, 'host-canary');
    mkdirSync(canary);
    writeFileSync(join(canary, 'host-only'), 'host secret\n');
    writeFileSync(join(work, 'host-log'), 'host log\n');
    const dirFd = openSync(canary, constants.O_RDONLY | constants.O_DIRECTORY);
    const fileFd = openSync(join(canary, 'host-only'), 'r');
    const appendFd = openSync(join(work, 'host-log'), 'a');
    const otherDir = join(work, 'host-other');
    mkdirSync(otherDir);
    const otherFd = openSync(otherDir, constants.O_RDONLY | constants.O_DIRECTORY);
    const ctx = writeContext(join(work, 'fds'), {
      Dockerfile: [
        'FROM busybox:test',
        // Each probe's outcome lands in the image: what the step could see, read and write.
        'RUN ls /proc/self/fd > /fd-list; ' +
          'for n in 40 41 42 78; do ' +
          '  cat /proc/self/fd/41 > /read-$n 2>&1; ls /proc/self/fd/$n/ > /list-$n 2>&1; ' +
          '  echo escaped > /proc/self/fd/$n/written 2>/dev/null; echo escaped >> /proc/self/fd/42 2>/dev/null; ' +
          'done; true',
        '',
      ].join('\n'),
    });
    const out = join(work, 'fds-out');
    const stdio: (number | 'pipe' | 'ignore')[] = ['ignore', 'pipe', 'pipe'];
    stdio[40] = dirFd;
    stdio[41] = fileFd;
    stdio[42] = appendFd;
    stdio[78] = otherFd;
    for (let i = 3; i < stdio.length; i++) stdio[i] ??= 'ignore';
    const r = spawnSync(process.execPath, [TSBUILD, 'build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx], {
      stdio,
      encoding: 'utf8',
    });
    for (const fd of [dirFd, fileFd, appendFd, otherFd]) closeSync(fd);
    expectOk({ status: r.status, stderr: r.stderr });

    // Only stdin, stdout and stderr crossed (3 is the directory ls itself was reading).
    expect(read(out, 'fd-list')).toBe('0\n1\n2\n3\n');
    expect(read(out, 'read-41')).toMatch(/No such file or directory/);
    expect(read(out, 'list-78')).toMatch(/No such file or directory/);
    expect(readdirSync(out).filter((f) => f.startsWith('read-')).map((f) => read(out, f)).join('')).not.toContain('host secret');
    // The host is untouched.
    expect(readdirSync(canary)).toEqual(['host-only']);
    expect(readFileSync(join(work, 'host-log'), 'utf8')).toBe('host log\n');
    expect(readdirSync(otherDir)).toEqual([]);
  });

  describe('devices', () => {
    // Opens each path for reading and prints "path: ok" or why not ("path: Permission denied").
    const tryOpen = (paths: string) =>
      `for f in ${paths}; do if (exec 3< "$f") 2> /tmp/err; then echo "$f: ok"; else echo "$f: $(sed 's/.*: //' /tmp/err)"; fi; done`;

    it('a host device made with mknod is created, kept in the layer, and cannot be opened', () => {
      const tar = join(work, 'devices.tar');
      const ctx = writeContext(join(work, 'devices'), {
        Dockerfile: [
          'FROM busybox:test',
          // hwrng and loop0, as the escape used them: on the root, in /dev, in a cache and a tmpfs mount.
          'RUN --mount=type=cache,target=/cache --mount=type=tmpfs,target=/scratch ' +
            'mknod /hwrng c 10 183 && mknod /loop0 b 7 0 && mknod /dev/hwrng c 10 183 && ' +
            'mknod /cache/hwrng c 10 183 && mknod /scratch/hwrng c 10 183 && ' +
            `(${tryOpen('/hwrng /loop0 /dev/hwrng /cache/hwrng /scratch/hwrng')}) > /opened && rm /cache/hwrng`,
          // A later step sees the node from the layer below, and cannot open it either.
          `RUN (${tryOpen('/hwrng')}) > /opened-later`,
          '',
        ].join('\n'),
      });
      expectOk(build(ctx, ['-o', `type=tar,dest=${tar}`]));
      const files = run('tar', ['-xOf', tar, 'opened', 'opened-later']);
      expect(files.stdout).toBe(
        [
          '/hwrng: Permission denied',
          '/loop0: Permission denied',
          '/dev/hwrng: Permission denied',
          '/cache/hwrng: Permission denied',
          '/scratch/hwrng: Permission denied',
          '/hwrng: Permission denied',
          '',
        ].join('\n'),
      );
      // The nodes are in the image, as the step made them.
      const listing = run('tar', ['-tvf', tar, 'hwrng', 'loop0']).stdout;
      expect(listing).toMatch(/^crw-r--r-- 0\/0 +10,183 .* hwrng$/m);
      expect(listing).toMatch(/^brw-r--r-- 0\/0 +7,0 .* loop0$/m);
    });

    it("/dev's own devices keep working", () => {
      const out = buildToDir('dev-nodes', [
        'FROM busybox:test',
        'RUN echo x > /dev/null && head -c 4 /dev/zero | wc -c > /dev-read && head -c 4 /dev/urandom | wc -c >> /dev-read && ' +
          'head -c 4 /dev/random | wc -c >> /dev-read && (echo x > /dev/full) 2>> /dev-read; ' +
          '[ -c /dev/tty ] && exec 3<> /dev/ptmx && ls /dev/pts > /pts',
      ]);
      expect(read(out, 'dev-read')).toBe('4\n4\n4\nsh: write error: No space left on device\n');
      expect(read(out, 'pts')).toBe('0\nptmx\n');
    });

    it('an insecure step opens the devices BuildKit adds, and one it makes', () => {
      const out = buildToDir(
        'devices-insecure',
        ['FROM busybox:test', `RUN --security=insecure mknod /null-node c 1 3 && (${tryOpen('/dev/loop-control /null-node')}) > /opened`],
        ['--allow', 'security.insecure'],
      );
      expect(read(out, 'opened')).toBe('/dev/loop-control: ok\n/null-node: ok\n');
    });
  });

  describe("seccomp: Docker's default profile", () => {
    const denied = [
      'unshare-user', 'unshare-mount', 'clone-newuser', 'clone3', 'mount', 'umount', 'swapon', 'reboot', 'kexec_load',
      'init_module', 'add_key', 'keyctl', 'personality', 'socket-vsock', 'ptrace-init', 'settimeofday',
    ];

    it('filters every sandboxed step, denying what Docker denies with its errno', () => {
      const out = buildToDir('seccomp', [
        'FROM busybox:test',
        'RUN grep ^Seccomp: /proc/self/status > /status',
        `RUN probe ${denied.join(' ')} > /probes && probe call-1000 > /unknown`,
        'RUN if unshare -U -r true 2> /unshare-err; then echo created > /unshare; else echo "failed: $?" > /unshare; fi',
        'USER app',
        'RUN grep ^Seccomp: /proc/self/status > /tmp/status-app',
      ]);
      expect(read(out, 'status')).toBe('Seccomp:\t2\n');
      expect(read(out, 'tmp/status-app')).toBe('Seccomp:\t2\n');
      expect(read(out, 'unshare')).toBe('failed: 1\n');
      expect(read(out, 'unshare-err')).toMatch(/unshare.*Operation not permitted/);
      // EPERM, Docker's default, but for clone3: ENOSYS, so that a C library falls back to clone.
      // ptrace is allowed by the profile (kernel 4.8 and later); attaching to PID 1 fails in the
      // kernel, as under Docker.
      expect(read(out, 'probes')).toBe(denied.map((n) => `${n}: ${n === 'clone3' ? 'ENOSYS' : 'EPERM'}\n`).join(''));
      // A call newer than the filter knows answers ENOSYS, as the kernel would, not EPERM.
      expect(read(out, 'unknown')).toBe('call-1000: ENOSYS\n');
    });

    it('ordinary steps still work under the filter', () => {
      const out = buildToDir('seccomp-ordinary', [
        'FROM busybox:test',
        'RUN mkdir -p /w/a && cd /w && echo hi > a/f && cp a/f b && mv b c && ln -s c d && ln c e && chmod 600 c && ' +
          'chown 1000:1000 e && mkfifo p && tar -cf t.tar a c d && mkdir x && tar -xf t.tar -C x && touch -d 2001-01-01 x/c && ' +
          'ls -ln /w x | sed "s/ [A-Z][a-z][a-z] .* / /" > /w/listing',
        // A connection that fails in the network, not in the filter: socket and connect are allowed.
        'RUN if wget -q -O /dev/null http://127.0.0.1:1/ 2> /wget-err; then echo fetched; fi; ' +
          'ps > /dev/null && sh -c "exit 3"; echo "sh: $?" > /sh-status; nproc > /dev/null && date > /dev/null',
      ]);
      expect(read(out, 'w/listing')).toMatch(/^-rw------- +2 1000 +1000 +3 c$/m);
      expect(read(out, 'wget-err')).toMatch(/Connection refused/);
      expect(read(out, 'sh-status')).toBe('sh: 3\n');
    });

    it('an insecure step runs without a filter, as under BuildKit', () => {
      const out = buildToDir(
        'seccomp-insecure',
        [
          'FROM busybox:test',
          'RUN --security=insecure grep ^Seccomp: /proc/self/status > /status && unshare -U -r true && echo created > /unshare',
          'RUN --security=insecure probe unshare-user add_key clone3 > /probes',
        ],
        ['--allow', 'security.insecure'],
      );
      expect(read(out, 'status')).toBe('Seccomp:\t0\n');
      expect(read(out, 'unshare')).toBe('created\n');
      // clone3 with no arguments is refused by the kernel itself, not with ENOSYS.
      expect(read(out, 'probes')).toBe('unshare-user: ok\nadd_key: ok\nclone3: EINVAL\n');
    });
  });
});
