// What a RUN step cannot reach, tried as an attacker would, end to end through the CLI on the
// busybox base: descriptors the caller of tsbuild left open, host devices made with mknod, and
// the system calls Docker's default seccomp profile denies. Each step records what it saw into
// the image; the host side (a canary directory, a host-only file) is checked untouched.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { mountsUnder, TSBUILD, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-containment-'));
const root = join(work, 'root');

function build(dir: string, extra: string[] = []) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

describe.skipIf(!isRoot && !isCI)('RUN containment, end to end', () => {
  beforeAll(async () => {
    expectOk(build(await busyboxBaseContext(join(work, 'base')), ['-t', 'busybox:test']));
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
});
