import { lstat, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirWorkdir } from './workdir.js';
import { makeTree, removeDir, setOwner, tempDir } from './testing.js';

let root: string;
let outside: string;
beforeEach(async () => {
  root = await tempDir('tsbuild-root-');
  outside = await tempDir('tsbuild-outside-');
  await makeTree(root, { 'etc/passwd': 'user:x:1000:1000::/home/user:/bin/sh\n', 'etc/group': 'user:x:1000:\n' });
});
afterEach(async () => {
  await Promise.all([removeDir(root), removeDir(outside)]);
});

describe('mkdirWorkdir', () => {
  it('creates missing directories 0755, owned by the USER in effect', async () => {
    await mkdirWorkdir(root, '/mydir/sub', { user: 'user' });
    for (const p of ['mydir', 'mydir/sub']) {
      const st = await lstat(join(root, p));
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o755, 1000, 1000]);
    }
  });

  it('is root-owned without a USER, and leaves an existing directory alone', async () => {
    await mkdir(join(root, 'exists'), { mode: 0o700 });
    await setOwner(join(root, 'exists'), 5, 5);
    await mkdirWorkdir(root, '/exists/new');
    const [e, n] = await Promise.all([lstat(join(root, 'exists')), lstat(join(root, 'exists/new'))]);
    expect([e.mode & 0o7777, e.uid]).toEqual([0o700, 5]);
    expect([n.uid, n.gid]).toEqual([0, 0]);
  });

  it('dates created directories at SOURCE_DATE_EPOCH when given', async () => {
    await mkdirWorkdir(root, '/epoch', { time: new Date(1_673_364_896_000) });
    expect((await lstat(join(root, 'epoch'))).mtimeMs).toBe(1_673_364_896_000);
  });

  it('follows symlinks inside the root only, and fails on an unknown user', async () => {
    await symlink(outside, join(root, 'link'));
    await mkdirWorkdir(root, '/link/app');
    expect((await lstat(join(root, outside, 'app'))).isDirectory()).toBe(true);
    await expect(mkdirWorkdir(root, '/x', { user: 'nobody' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await mkdirWorkdir(root, '/'); // nothing to do
  });
});
