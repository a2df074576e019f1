/**
 * A minimal root filesystem made from Debian's busybox-static, for tests that run things in
 * containers: /bin/busybox with a symlink per applet, users root (home /root) and app
 * (1000:1000, home /home/app, also in group extra 2000), and a world-writable /tmp.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BUSYBOX = '/usr/bin/busybox';

export interface BusyboxRootfsOptions {
  /** Extra lines for /etc/passwd, e.g. `bob:x:1001:1001::/home/bob:/bin/sh`. */
  readonly extraPasswd?: readonly string[];
  /** Extra lines for /etc/group. */
  readonly extraGroup?: readonly string[];
}

function busyboxApplets(): string[] {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`${BUSYBOX} not found: install Debian's busybox-static (apt-get install busybox-static)`);
  }
  const out = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  return out.split('\n').filter((name) => /^[A-Za-z0-9_.[-]+$/.test(name) && name !== 'busybox');
}

/** Fills `dir` (created if missing) with the root filesystem and returns `dir`. */
export async function makeBusyboxRootfs(dir: string, opts: BusyboxRootfsOptions = {}): Promise<string> {
  const applets = busyboxApplets();
  for (const sub of ['bin', 'etc', 'root', 'home/app', 'tmp', 'usr/bin', 'usr/sbin', 'sbin']) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  // Every applet under /bin: the PATH finds it wherever a script expects it.
  await Promise.all(applets.map((name) => symlink('busybox', join(dir, 'bin', name))));
  await chmod(join(dir, 'tmp'), 0o1777);
  await chmod(join(dir, 'root'), 0o700);
  const passwd = [
    'root:x:0:0:root:/root:/bin/sh',
    'app:x:1000:1000:app:/home/app:/bin/sh',
    ...(opts.extraPasswd ?? []),
  ];
  const group = ['root:x:0:', 'app:x:1000:', 'extra:x:2000:app', ...(opts.extraGroup ?? [])];
  await writeFile(join(dir, 'etc/passwd'), passwd.join('\n') + '\n');
  await writeFile(join(dir, 'etc/group'), group.join('\n') + '\n');
  await chown(join(dir, 'home/app'), 1000, 1000);
  return dir;
}
