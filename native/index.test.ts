import { mkdtemp, rm, writeFile, symlink, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S_IFCHR, addonCandidates, isNativeError, major, makedev, minor, native, nativeDirOverride } from './index.js';

import { isRoot } from '../test/support/env.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-native-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makedev', () => {
  it('matches the kernel encoding fs.Stats.rdev uses, both ways', async () => {
    expect(makedev(0, 0)).toBe(0);
    expect(makedev(1, 3)).toBe(0x103);
    expect(makedev(259, 65536)).toBe(makedev(259, 65536));
    for (const [ma, mi] of [[1, 3], [4095, 255], [4096, 256], [1_000_000, 1_000_000], [136, 70000]] as const) {
      const dev = makedev(ma, mi);
      expect([major(dev), minor(dev)]).toEqual([ma, mi]);
    }
    if (isRoot) {
      native().mknod(join(dir, 'dev'), S_IFCHR | 0o600, makedev(136, 70000));
      const st = await lstat(join(dir, 'dev'));
      expect([major(st.rdev), minor(st.rdev)]).toEqual([136, 70000]);
    }
  });
});

describe('native addon', () => {
  it('throws errors with errno code names, like node:fs', () => {
    let error: unknown;
    try {
      native().llistxattr(join(dir, 'missing'));
    } catch (e) {
      error = e;
    }
    expect(isNativeError(error, 'ENOENT')).toBe(true);
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'llistxattr', path: join(dir, 'missing') });
  });

  it('reads, lists and removes xattrs without following symlinks', async () => {
    const file = join(dir, 'f');
    await writeFile(file, '');
    await symlink(file, join(dir, 'l'));
    const addon = native();
    expect(addon.lgetxattr(file, 'user.none')).toBeNull();
    addon.lsetxattr(file, 'user.a', Buffer.from([0, 1, 2]), 0);
    addon.lsetxattr(file, 'user.empty', Buffer.alloc(0), 0);
    expect(addon.lgetxattr(file, 'user.a')).toEqual(Buffer.from([0, 1, 2]));
    expect(addon.lgetxattr(file, 'user.empty')).toEqual(Buffer.alloc(0));
    expect(addon.llistxattr(file).sort()).toEqual(['user.a', 'user.empty']);
    expect(addon.lgetxattr(join(dir, 'l'), 'user.a')).toBeNull();
    expect(() => addon.lsetxattr(file, 'user.a', Buffer.from('x'), 1 /* XATTR_CREATE */)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    addon.lremovexattr(file, 'user.a');
    expect(addon.llistxattr(file)).toEqual(['user.empty']);
  });

  it('refuses paths with NUL bytes instead of truncating them', () => {
    expect(() => native().lgetxattr(`${dir}/a\0b`, 'user.x')).toThrow(/NUL/);
  });

  it('reports a failing mount with its errno', () => {
    expect(() => native().mount(null, join(dir, 'nowhere'), 'tmpfs', 0, null)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'mount' }));
    expect(() => native().mount('overlay', dir, 'overlay', 0, 'lowerdir=x', join(dir, 'no-cwd'))).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'chdir' }));
  });
});

describe('renameExchange', () => {
  it('makes two directories trade places; a path that is not there is ENOENT', async () => {
    const { mkdir, readFile } = await import('node:fs/promises');
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'f'), 'was a');
    await writeFile(join(dir, 'b', 'f'), 'was b');
    native().renameExchange(join(dir, 'a'), join(dir, 'b'));
    expect(await readFile(join(dir, 'a', 'f'), 'utf8')).toBe('was b');
    expect(await readFile(join(dir, 'b', 'f'), 'utf8')).toBe('was a');
    let err: unknown;
    try {
      native().renameExchange(join(dir, 'a'), join(dir, 'none'));
    } catch (e) {
      err = e;
    }
    expect(isNativeError(err, 'ENOENT')).toBe(true);
  });
});

describe('TSBUILD_NATIVE_DIR', () => {
  it('names the only place the addon is looked for; empty or unset means the package build', () => {
    expect(addonCandidates({ TSBUILD_NATIVE_DIR: '/opt/native' })).toEqual(['/opt/native/tsbuild_native.node']);
    expect(nativeDirOverride({ TSBUILD_NATIVE_DIR: '' })).toBeUndefined();
    const fromPackage = addonCandidates({});
    expect(fromPackage.length).toBe(2);
    expect(fromPackage.every((p) => p.endsWith('/native/build/Release/tsbuild_native.node'))).toBe(true);
  });
});
