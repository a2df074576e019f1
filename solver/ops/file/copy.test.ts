import { lstat, readFile, readlink, readdir, stat, writeFile, mkdir, symlink, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileMatcher, parseIgnoreFile } from '../../../patternmatcher/index.js';
import { parseChmod } from '../../../frontend/instructions/index.js';
import { add, copy, destinationPath, type CopyOptions } from './copy.js';
import { makeTree, removeDir, setOwner, setTime, tempDir } from './testing.js';

let ctx: string;
let dest: string;
let outside: string;

beforeEach(async () => {
  ctx = await tempDir('tsbuild-ctx-');
  dest = await tempDir('tsbuild-dest-');
  outside = await tempDir('tsbuild-outside-');
  await writeFile(join(outside, 'secret'), 'SECRET');
});

afterEach(async () => {
  await Promise.all([removeDir(ctx), removeDir(dest), removeDir(outside)]);
});

function opts(sources: string[], destPath: string, extra: Partial<CopyOptions> = {}): CopyOptions {
  return { destRoot: dest, dest: destPath, workdir: '/', source: { root: ctx, ownership: 'reset' }, sources, ...extra };
}

const read = (p: string): Promise<string> => readFile(join(dest, p), 'utf8');
const exists = async (p: string): Promise<boolean> => (await lstat(join(dest, p)).catch(() => undefined)) !== undefined;
const modeOf = async (p: string): Promise<number> => (await lstat(join(dest, p))).mode & 0o7777;

/** Every path under a directory (to check nothing landed where it should not). */
async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('destinationPath', () => {
  it('joins relative destinations with the working directory and keeps trailing slashes', () => {
    expect(destinationPath('/app', '.')).toBe('/app/');
    expect(destinationPath('/app', '')).toBe('/app/');
    expect(destinationPath('/app', 'x')).toBe('/app/x');
    expect(destinationPath('/app', 'x/')).toBe('/app/x/');
    expect(destinationPath('/test5/test6', '../')).toBe('/test5/');
    expect(destinationPath('/app', '/abs/./y/..')).toBe('/abs');
    expect(destinationPath('/app', 'sub/.')).toBe('/app/sub/.');
    expect(destinationPath('/', '.')).toBe('/');
  });
});

describe('copy: sources and destinations', () => {
  it('copies a directory’s contents, not the directory itself', async () => {
    await makeTree(ctx, { 'src/a.txt': 'a', 'src/sub/b.txt': 'b' });
    await copy(opts(['src'], '/app'));
    expect(await read('app/a.txt')).toBe('a');
    expect(await read('app/sub/b.txt')).toBe('b');
    expect(await exists('app/src')).toBe(false);
  });

  it('copies a file to a non-slash destination as that name, and into a slash destination', async () => {
    await makeTree(ctx, { 'f.txt': 'F' });
    await copy(opts(['f.txt'], '/renamed'));
    expect(await read('renamed')).toBe('F');
    await copy(opts(['f.txt'], '/dir/'));
    expect(await read('dir/f.txt')).toBe('F');
  });

  it('copies into an existing directory even without a trailing slash', async () => {
    await makeTree(ctx, { 'f.txt': 'F' });
    await mkdir(join(dest, 'existing'));
    await copy(opts(['f.txt'], '/existing'));
    expect(await read('existing/f.txt')).toBe('F');
  });

  it('resolves a relative destination against the working directory', async () => {
    await makeTree(ctx, { foo: 'hello' });
    await copy(opts(['foo'], './', { workdir: '/test1/test2' }));
    await copy(opts(['foo'], './bar/baz', { workdir: '/test1/test2' }));
    await copy(opts(['foo'], '../', { workdir: '/test5/test6' }));
    expect(await read('test1/test2/foo')).toBe('hello');
    expect(await read('test1/test2/bar/baz')).toBe('hello');
    expect(await read('test5/foo')).toBe('hello');
  });

  it('copies several sources in order; directories merge', async () => {
    await makeTree(ctx, { 'a/x': '1', 'b/y': '2', 'c.txt': 'c' });
    await copy(opts(['a', 'b', 'c.txt'], '/out/'));
    expect((await listAll(join(dest, 'out'))).sort()).toEqual(['c.txt', 'x', 'y']);
  });

  it('expands wildcards per path component in name order, a matched directory copied as its contents', async () => {
    await makeTree(ctx, {
      'foo.go': 'foo',
      'bar.go': 'bar',
      'sub/dir1/dir2/foo': 'deep',
      'notes.md': 'md',
    });
    await copy(opts(['*.go'], '/gofiles/'));
    expect(await listAll(join(dest, 'gofiles'))).toEqual(['bar.go', 'foo.go']);
    await copy(opts(['f*.go'], '/foo2.go'));
    expect(await read('foo2.go')).toBe('foo');
    await copy(opts(['sub/*'], '/subdest/'));
    expect(await read('subdest/dir2/foo')).toBe('deep');
    await copy(opts(['sub/*/dir2/foo'], '/subdest3/bar'));
    expect(await read('subdest3/bar')).toBe('deep');
    await copy(opts(['ba[a-r].g?'], '/cls/'));
    expect(await listAll(join(dest, 'cls'))).toEqual(['bar.go']);
  });

  it('treats a wildcard that matches nothing as no error (BuildKit AllowEmptyWildcard)', async () => {
    await makeTree(ctx, { foo: 'contents0' });
    const result = await copy(opts(['foo', 'nomatch*'], '/'));
    expect(result.copied).toEqual(['foo']);
    expect(await read('foo')).toBe('contents0');
  });

  it('fails with `"/missing": not found` for a missing plain source', async () => {
    await expect(copy(opts(['missing'], '/x'))).rejects.toMatchObject({ code: 'COPY_FAILED', message: '"/missing": not found' });
    await expect(copy(opts(['nodir/*.txt'], '/x/'))).rejects.toMatchObject({ message: '"/nodir": not found' });
  });

  it('rejects a malformed wildcard', async () => {
    await expect(copy(opts(['a[', 'b'], '/x/'))).rejects.toMatchObject({ code: 'COPY_FAILED' });
  });

  it('replaces an existing file and refuses to replace a directory with a file', async () => {
    await makeTree(ctx, { f: 'new' });
    await writeFile(join(dest, 'f'), 'old');
    await copy(opts(['f'], '/f'));
    expect(await read('f')).toBe('new');
    await mkdir(join(dest, 'd/f'), { recursive: true });
    await makeTree(ctx, { 'd/f': 'file' });
    await expect(copy(opts(['d'], '/d'))).rejects.toMatchObject({ code: 'COPY_FAILED' });
  });

  it('merges into existing directories, keeping what was there', async () => {
    await makeTree(ctx, { 'src/new.txt': 'n', 'src/sub/inner.txt': 'i' });
    await makeTree(dest, { 'app/old.txt': 'o', 'app/sub/keep.txt': 'k' });
    await copy(opts(['src'], '/app'));
    expect(await listAll(join(dest, 'app'))).toEqual(['new.txt', 'old.txt', 'sub', 'sub/inner.txt', 'sub/keep.txt']);
  });

  it('preserves modes and mtimes; resets context owners to 0:0', async () => {
    await makeTree(ctx, { 'd/run.sh': { mode: 0o750, data: '#!/bin/sh' } });
    await chmod(join(ctx, 'd'), 0o711);
    await setOwner(join(ctx, 'd/run.sh'), 1234, 5678);
    await setTime(join(ctx, 'd/run.sh'), 1_000_000_000);
    await copy(opts(['/'], '/out/'));
    const st = await lstat(join(dest, 'out/d/run.sh'));
    expect(st.mode & 0o7777).toBe(0o750);
    expect(await modeOf('out/d')).toBe(0o711);
    expect(st.mtimeMs).toBe(1_000_000_000_000);
    expect([st.uid, st.gid]).toEqual([0, 0]);
  });

  it('gives copied files the wanted owner and exact mode, set-id bits included, in a set-group-ID directory too', async () => {
    await makeTree(ctx, { 'bin/tool': { mode: 0o755, data: 'x' }, plain: 'p' });
    await chmod(join(ctx, 'bin/tool'), 0o6755);
    await setOwner(join(ctx, 'plain'), 1234, 5678);
    // A destination directory whose new files would get its group, 4321, unless chowned.
    await mkdir(join(dest, 'shared'));
    await setOwner(join(dest, 'shared'), 0, 4321);
    await chmod(join(dest, 'shared'), 0o2775);
    await copy(opts(['bin/tool', 'plain'], '/shared/'));
    await copy(opts(['bin/tool', 'plain'], '/elsewhere/'));
    for (const dir of ['shared', 'elsewhere']) {
      const tool = await lstat(join(dest, dir, 'tool'));
      const plain = await lstat(join(dest, dir, 'plain'));
      expect([tool.uid, tool.gid, tool.mode & 0o7777]).toEqual([0, 0, 0o6755]);
      expect([plain.uid, plain.gid, plain.mode & 0o7777]).toEqual([0, 0, 0o644]);
    }
    const source = { root: ctx, ownership: 'keep' as const };
    await copy(opts(['plain', 'bin/tool'], '/kept/', { source }));
    const kept = await lstat(join(dest, 'kept/plain'));
    expect([kept.uid, kept.gid]).toEqual([1234, 5678]);
    expect(await modeOf('kept/tool')).toBe(0o6755);
  });

  it('keeps owners when copying from a stage (ownership: keep); the created top directory stays root-owned', async () => {
    await makeTree(ctx, { 'dir/subdir/nested': 'n', file: 'f' });
    await setOwner(join(ctx, 'dir'), 100, 200);
    await setOwner(join(ctx, 'dir/subdir'), 101, 201);
    await setOwner(join(ctx, 'dir/subdir/nested'), 102, 202);
    await setOwner(join(ctx, 'file'), 100, 200);
    const source = { root: ctx, ownership: 'keep' as const };
    await copy(opts(['/file'], '.', { source }));
    await copy(opts(['/dir'], '/dir', { source }));
    const owner = async (p: string): Promise<string> => {
      const st = await lstat(join(dest, p));
      return `${st.uid}:${st.gid}`;
    };
    expect(await owner('file')).toBe('100:200');
    expect(await owner('dir')).toBe('0:0');
    expect(await owner('dir/subdir')).toBe('101:201');
    expect(await owner('dir/subdir/nested')).toBe('102:202');
  });

  it('preserves hard links within one source', async () => {
    await makeTree(ctx, { 'h/a': 'same', 'h/b': { hardlink: 'h/a' } });
    await copy(opts(['h'], '/h'));
    const [a, b] = await Promise.all([lstat(join(dest, 'h/a')), lstat(join(dest, 'h/b'))]);
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(2);
  });

  it('--exclude leaves out matching paths relative to each source', async () => {
    await makeTree(ctx, {
      'dir1/file-101.png': '2',
      'dir1/file-102.txt': '3',
      'dir3/file-301.mp3': '9',
      'dir3/file-302.mpeg': '10',
    });
    await copy(opts(['.'], '/1', { exclude: ['*/*.png'] }));
    expect(await listAll(join(dest, '1'))).toEqual(['dir1', 'dir1/file-102.txt', 'dir3', 'dir3/file-301.mp3', 'dir3/file-302.mpeg']);
    await copy(opts(['dir*'], '/4/', { exclude: ['*.mp3', '*.png', '*.txt'] }));
    expect(await listAll(join(dest, '4'))).toEqual(['file-302.mpeg']);
  });

  it('leaves out .dockerignore’d paths of the context', async () => {
    await makeTree(ctx, { 'keep.txt': 'k', 'drop.log': 'd', 'logs/a.log': 'a', 'logs/important.log': 'i' });
    const ignore = compileMatcher(parseIgnoreFile('*.log\nlogs\n!logs/important.log\n', '.dockerignore'));
    await copy(opts(['.'], '/out/', { source: { root: ctx, ownership: 'reset', ignore } }));
    expect(await listAll(join(dest, 'out'))).toEqual(['keep.txt', 'logs', 'logs/important.log']);
    await expect(copy(opts(['drop.log'], '/x', { source: { root: ctx, ownership: 'reset', ignore } }))).rejects.toMatchObject({
      message: '"/drop.log": not found',
    });
  });

  it('--parents keeps the source paths, below an optional /./ pivot', async () => {
    await makeTree(ctx, { 'a/b/c.txt': 'c', 'a/b/d.md': 'd', 'x/y/z.txt': 'z' });
    await copy(opts(['a/b/*.txt', 'x/./y/z.txt'], '/p/', { parents: true }));
    expect(await listAll(join(dest, 'p'))).toEqual(['a', 'a/b', 'a/b/c.txt', 'y', 'y/z.txt']);
    await expect(copy(opts(['a/missing.txt'], '/p/', { parents: true }))).rejects.toMatchObject({ message: '"/a/missing.txt": not found' });
  });

  it('records --link without changing content', async () => {
    await makeTree(ctx, { f: 'x' });
    expect((await copy(opts(['f'], '/f', { link: true }))).link).toBe(true);
    expect(await read('f')).toBe('x');
  });
});

describe('copy: --chown and --chmod', () => {
  beforeEach(async () => {
    await makeTree(dest, {
      'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\napp:x:1000:1001::/home/app:/bin/sh\n',
      'etc/group': 'root:x:0:\ndaemon:x:1:\nnobody:x:65534:\nstaff:x:50:\n',
    });
  });

  const owner = async (p: string): Promise<string> => {
    const st = await lstat(join(dest, p));
    return `${st.uid}:${st.gid}`;
  };

  it('resolves names from the destination root, ids as given', async () => {
    await makeTree(ctx, { foo: 'f', 'bar/sub': '' });
    await copy(opts(['foo'], '/', { chown: 'daemon' }));
    await copy(opts(['bar'], '/baz', { chown: '1000:nobody' }));
    await copy(opts(['foo'], '/a', { chown: 'app' }));
    await copy(opts(['foo'], '/b', { chown: '77' }));
    await copy(opts(['foo'], '/c', { chown: 'app:staff' }));
    expect(await owner('foo')).toBe('1:1');
    expect(await owner('baz/sub')).toBe('1000:65534');
    expect(await owner('a')).toBe('1000:1001');
    expect(await owner('b')).toBe('77:77');
    expect(await owner('c')).toBe('1000:50');
  });

  it('chowns the destination directories it creates, leaves existing ones alone', async () => {
    await makeTree(ctx, { 'dir/f': 'x' });
    await mkdir(join(dest, 'existing'));
    await setOwner(join(dest, 'existing'), 500, 600);
    await copy(opts(['dir'], '/new/deep/dest', { chown: '300:400' }));
    await copy(opts(['dir'], '/existing', { chown: '300:400' }));
    expect(await owner('new')).toBe('300:400');
    expect(await owner('new/deep/dest')).toBe('300:400');
    expect(await owner('new/deep/dest/f')).toBe('300:400');
    expect(await owner('existing')).toBe('500:600');
    expect(await owner('existing/f')).toBe('300:400');
  });

  it('refuses an unknown user or group, naming it', async () => {
    await makeTree(ctx, { foo: 'f' });
    await expect(copy(opts(['foo'], '/x', { chown: 'ghost' }))).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
      message: expect.stringContaining('ghost'),
    });
    await expect(copy(opts(['foo'], '/x', { chown: 'app:ghosts' }))).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
  });

  it('applies an octal --chmod to files and directories, and to created parents', async () => {
    await makeTree(ctx, { foo: 'f', 'd/x': 'x' });
    await copy(opts(['foo'], '/foo', { chmod: parseChmod('0644') }));
    await copy(opts(['foo'], '/foobis', { chmod: parseChmod('0') }));
    await copy(opts(['foo'], '/parent/sub/foo', { chmod: parseChmod('770') }));
    await copy(opts(['d'], '/dd/', { chmod: parseChmod('4755') }));
    expect(await modeOf('foo')).toBe(0o644);
    expect(await modeOf('foobis')).toBe(0o000);
    expect(await modeOf('parent')).toBe(0o770);
    expect(await modeOf('parent/sub')).toBe(0o770);
    expect(await modeOf('parent/sub/foo')).toBe(0o770);
    expect(await modeOf('dd/x')).toBe(0o4755);
  });

  it('applies a symbolic --chmod to each entry’s own mode (X only where executable or a directory)', async () => {
    await makeTree(ctx, { 'd/plain': { mode: 0o644, data: '' }, 'd/exe': { mode: 0o744, data: '' }, 'd/sub/': '' });
    await chmod(join(ctx, 'd/sub'), 0o700);
    await copy(opts(['d'], '/s/', { chmod: parseChmod('go+rX,u-w') }));
    expect(await modeOf('s/plain')).toBe(0o444);
    expect(await modeOf('s/exe')).toBe(0o555);
    expect(await modeOf('s/sub')).toBe(0o555);
  });
});

describe('copy: symlinks and escapes', () => {
  it('follows a symlink named as the source, inside the context, keeping the name', async () => {
    await makeTree(ctx, { bar: 'bar-contents', foo: { link: 'bar' }, 'sub/lfile': 'l', 'sub/l0': { link: 'subfile' }, 'sub/subfile': 's' });
    await copy(opts(['foo'], '/'));
    expect((await lstat(join(dest, 'foo'))).isFile()).toBe(true);
    expect(await read('foo')).toBe('bar-contents');
    await copy(opts(['sub/l*'], '/alllinks/'));
    expect(await read('alllinks/l0')).toBe('s');
    expect(await read('alllinks/lfile')).toBe('l');
  });

  it('copies symlinks inside a copied directory as links, never following them', async () => {
    await makeTree(ctx, { 'foo/sub': { link: '../bar' }, 'foo/out': { link: `${outside}/secret` }, bar: 'b' });
    await copy(opts(['foo'], '/'));
    expect(await readlink(join(dest, 'sub'))).toBe('../bar');
    expect(await readlink(join(dest, 'out'))).toBe(`${outside}/secret`);
  });

  it('reads through a symlinked directory in the middle of a source path', async () => {
    await makeTree(ctx, { 'sub/foo': 'contents', link: { link: 'sub' } });
    await copy(opts(['link/foo'], '.'));
    expect(await read('foo')).toBe('contents');
  });

  it('never reads outside the context: `..`, absolute paths and escaping symlinks stay inside', async () => {
    await makeTree(ctx, { 'a.txt': 'inside', esc: { link: `${outside}/secret` }, rel: { link: '../../../../../../../secret' } });
    await copy(opts(['../../a.txt'], '/x1'));
    expect(await read('x1')).toBe('inside');
    await copy(opts(['/a.txt'], '/x2'));
    expect(await read('x2')).toBe('inside');
    // The link targets are read inside the context, where no "secret" exists.
    await expect(copy(opts(['esc'], '/x3'))).rejects.toMatchObject({ code: 'COPY_FAILED' });
    await expect(copy(opts(['rel'], '/x4'))).rejects.toMatchObject({ message: '"/rel": not found' });
    await expect(copy(opts([`${outside}/secret`], '/x5'))).rejects.toMatchObject({ code: 'COPY_FAILED' });
    for (const p of await listAll(dest)) expect(await readFile(join(dest, p), 'utf8').catch(() => '')).not.toBe('SECRET');
  });

  it('resolves destination symlinks inside the destination root, never writing outside', async () => {
    await makeTree(ctx, { f: 'payload', 'd/g': 'payload2' });
    await symlink(outside, join(dest, 'abs'));
    await symlink('../../../../../../..' + outside, join(dest, 'rel'));
    await symlink(`${outside}/secret`, join(dest, 'target'));
    await copy(opts(['f'], '/abs/f'));
    await copy(opts(['d'], '/rel/'));
    await copy(opts(['f'], '/target'));
    expect(await listAll(outside)).toEqual(['secret']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('SECRET');
    // They landed inside the destination root, at the link targets read as root-relative paths.
    expect(await readFile(join(dest, outside, 'f'), 'utf8')).toBe('payload');
    expect(await readFile(join(dest, outside, 'g'), 'utf8')).toBe('payload2');
    expect(await readFile(join(dest, outside, 'secret'), 'utf8')).toBe('payload');
  });

  it('replaces a symlink in the way of a copied file instead of writing through it', async () => {
    await makeTree(ctx, { 'd/victim': 'new' });
    await mkdir(join(dest, 'out'));
    await symlink(`${outside}/secret`, join(dest, 'out/victim'));
    await copy(opts(['d'], '/out'));
    expect((await lstat(join(dest, 'out/victim'))).isFile()).toBe(true);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('SECRET');
  });
});

describe('copy: heredocs and remote sources', () => {
  it('writes heredoc files 0644 (or --chmod), owned per --chown', async () => {
    await makeTree(dest, { 'etc/passwd': 'app:x:1000:1000::/:/bin/sh\n' });
    await copy(opts([], '/app/', { heredocs: [{ path: 'hello.sh', data: 'echo hi\n' }] }));
    await copy(opts([], '/app/run', { heredocs: [{ path: 'x', data: 'run\n' }], chmod: parseChmod('755'), chown: 'app' }));
    expect(await read('app/hello.sh')).toBe('echo hi\n');
    expect(await modeOf('app/hello.sh')).toBe(0o644);
    expect(await read('app/run')).toBe('run\n');
    expect(await modeOf('app/run')).toBe(0o755);
    expect((await stat(join(dest, 'app/run'))).uid).toBe(1000);
  });

  it('fails loudly for URL and git sources', async () => {
    await expect(add(opts(['https://example.com/a.tar.gz'], '/'))).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
      message: expect.stringContaining('not supported yet: ADD from a URL'),
    });
    await expect(add(opts(['https://github.com/x/y.git#main'], '/'))).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    await expect(copy(opts(['https://example.com/a'], '/'))).rejects.toMatchObject({ message: "source can't be a URL for COPY" });
  });
});

describe('copy: writing to the upper dir', () => {
  /** `dest` plays both the merged view and the upper dir; deferred work runs when told. */
  function upperOf(): { upper: NonNullable<CopyOptions['upper']>; run: () => Promise<void>; count: () => number } {
    const tasks: (() => Promise<void>)[] = [];
    return {
      upper: { upperDir: dest, defer: (t) => void tasks.push(t) },
      run: async () => {
        for (const t of tasks.splice(0)) await t();
      },
      count: () => tasks.length,
    };
  }

  it('defers a directory copied to a new destination, and then leaves what a direct copy leaves', async () => {
    await makeTree(ctx, { 'src/a.txt': 'a', 'src/sub/b.txt': 'b', 'src/link': { link: 'a.txt' } });
    await chmod(join(ctx, 'src/sub'), 0o700);
    await setTime(join(ctx, 'src/sub'), 1_600_000_000);
    const u = upperOf();
    await copy(opts(['src'], '/app/x', { upper: u.upper }));
    expect(u.count()).toBe(1);
    expect(await listAll(join(dest, 'app/x'))).toEqual([]); // made, still empty
    await u.run();
    const viaUpper = await listAll(dest);
    const st = await lstat(join(dest, 'app/x/sub'));
    expect([st.mode & 0o7777, st.mtimeMs]).toEqual([0o700, 1_600_000_000_000]);
    expect(await read('app/x/sub/b.txt')).toBe('b');
    expect(await readlink(join(dest, 'app/x/link'))).toBe('a.txt');
    await removeDir(dest);
    dest = await tempDir('tsbuild-dest-');
    await copy(opts(['src'], '/app/x'));
    expect(await listAll(dest)).toEqual(viaUpper);
  });

  it('writes through the destination root when the destination exists, or more is copied after', async () => {
    await makeTree(ctx, { 'src/a.txt': 'a', 'b.txt': 'b' });
    await mkdir(join(dest, 'app'));
    const u = upperOf();
    await copy(opts(['src'], '/app', { upper: u.upper }));
    await copy(opts(['src', 'b.txt'], '/two/', { upper: u.upper }));
    await copy(opts(['src'], '/three', { upper: u.upper, heredocs: [{ path: 'h', data: 'H' }] }));
    await copy(opts(['b.txt'], '/four', { upper: u.upper }));
    expect(u.count()).toBe(0);
    expect(await read('app/a.txt')).toBe('a');
    expect(await read('two/a.txt')).toBe('a');
    expect(await read('three/h')).toBe('H');
    expect(await read('four')).toBe('b');
  });
});
