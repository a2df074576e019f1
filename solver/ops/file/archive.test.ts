import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, readFile, readlink, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { native } from '../../../native/index.js';
import { fileXattrs } from '../../../snapshotter/index.js';
import { isCI, isRoot } from '../../../test/support/env.js';
import { rawPathIn } from '../../../test/support/raw-path.js';
import { compressionOf, detectArchive, isTarHeader } from './archive.js';
import { add, copy, type CopyOptions } from './copy.js';
import { removeDir, tempDir } from './testing.js';

interface Entry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link';
  readonly data?: string;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: Date;
}

async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const header = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_600_000_000_000),
      linkname: e.linkname,
    };
    if ((e.type ?? 'file') === 'file') pack.entry(header, e.data ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const compressWith = (cmd: string, data: Buffer): Buffer => execFileSync(cmd, ['-c'], { input: data });

let ctx: string;
let dest: string;
let outside: string;

beforeEach(async () => {
  ctx = await tempDir('tsbuild-ctx-');
  dest = await tempDir('tsbuild-dest-');
  outside = await tempDir('tsbuild-outside-');
});

afterEach(async () => {
  await Promise.all([removeDir(ctx), removeDir(dest), removeDir(outside)]);
});

function opts(sources: string[], destPath: string, extra: Partial<CopyOptions> = {}): CopyOptions {
  return { destRoot: dest, dest: destPath, workdir: '/', source: { root: ctx, ownership: 'reset' }, sources, ...extra };
}

const simple = (): Promise<Buffer> => tarOf([{ name: 'foo', data: 'content0' }]);

describe('archive detection', () => {
  it('knows compressions by their magic bytes', () => {
    expect(compressionOf(Buffer.from([0x1f, 0x8b, 0x08, 0]))).toBe('gzip');
    expect(compressionOf(Buffer.from('BZh9'))).toBe('bzip2');
    expect(compressionOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(compressionOf(Buffer.from('hello'))).toBe('none');
  });

  it('needs a valid tar header, not a name', async () => {
    const t = await simple();
    expect(isTarHeader(t.subarray(0, 512))).toBe(true);
    const broken = Buffer.from(t);
    broken[0] = broken[0]! ^ 1;
    expect(isTarHeader(broken.subarray(0, 512))).toBe(false);
    await writeFile(join(ctx, 'fake.tar.gz'), '');
    await writeFile(join(ctx, 'real.bin'), gzipSync(t));
    await writeFile(join(ctx, 'text.gz'), gzipSync('just text, not a tar archive'));
    expect(await detectArchive(join(ctx, 'fake.tar.gz'))).toBeUndefined();
    expect(await detectArchive(join(ctx, 'real.bin'))).toBe('gzip');
    expect(await detectArchive(join(ctx, 'text.gz'))).toBeUndefined();
  });
});

describe('ADD extraction', () => {
  it.each([
    ['tar', async () => simple()],
    ['tar.gz', async () => gzipSync(await simple())],
    ['tar.bz2', async () => compressWith('bzip2', await simple())],
    ['tar.xz', async () => compressWith('xz', await simple())],
    ['tar.zst', async () => compressWith('zstd', await simple())],
  ])('extracts a %s into the destination', async (ext, make) => {
    await writeFile(join(ctx, `t.${ext}`), await make());
    const result = await add(opts([`t.${ext}`], '/'));
    expect(result.extracted).toEqual([`t.${ext}`]);
    expect(await readFile(join(dest, 'foo'), 'utf8')).toBe('content0');
  });

  it('leaves archives alone with --unpack=false and for COPY', async () => {
    const gz = gzipSync(await simple());
    await writeFile(join(ctx, 't.tar.gz'), gz);
    await add({ ...opts(['t.tar.gz'], '/a/'), unpack: false });
    await copy(opts(['t.tar.gz'], '/c/'));
    expect(await readFile(join(dest, 'a/t.tar.gz'))).toEqual(gz);
    expect(await readFile(join(dest, 'c/t.tar.gz'))).toEqual(gz);
  });

  it('copies a non-archive named like one as a file', async () => {
    await writeFile(join(ctx, 'empty.tar.gz'), '');
    await add(opts(['empty.tar.gz'], '/'));
    expect((await lstat(join(dest, 'empty.tar.gz'))).size).toBe(0);
  });

  it('extracts into a non-slash destination as a directory, --chown on entries and the created directory', async () => {
    await writeFile(join(ctx, 't.tar'), await tarOf([{ name: 'foo', data: 'x', uid: 7, gid: 8 }]));
    await add({ ...opts(['t.tar'], '/out'), chown: '100:200' });
    const [d, f] = await Promise.all([lstat(join(dest, 'out')), lstat(join(dest, 'out/foo'))]);
    expect(d.isDirectory()).toBe(true);
    expect([d.uid, d.gid, f.uid, f.gid]).toEqual([100, 200, 100, 200]);
  });

  it('keeps owners, modes and times from the archive; makes implied parents', async () => {
    await writeFile(
      join(ctx, 't.tar'),
      await tarOf([
        { name: 'etc/dnf/', type: 'directory', mode: 0o750, mtime: new Date(1_500_000_000_000) },
        { name: 'etc/dnf/dnf.conf', data: 'conf', mode: 0o600, uid: 5, gid: 6 },
        { name: 'a/b/c', data: 'implied' },
      ]),
    );
    await add(opts(['t.tar'], '/'));
    const conf = await lstat(join(dest, 'etc/dnf/dnf.conf'));
    expect([conf.mode & 0o7777, conf.uid, conf.gid, conf.mtimeMs]).toEqual([0o600, 5, 6, 1_600_000_000_000]);
    const dir = await lstat(join(dest, 'etc/dnf'));
    expect([dir.mode & 0o7777, dir.mtimeMs]).toEqual([0o750, 1_500_000_000_000]);
    expect((await lstat(join(dest, 'a/b'))).mode & 0o7777).toBe(0o755);
  });

  it('contains `../` and absolute names inside the destination directory', async () => {
    await writeFile(
      join(ctx, 'evil.tar'),
      await tarOf([
        { name: '../evil', data: 'e1' },
        { name: '../../../../../../../../tmp/evil2', data: 'e2' },
        { name: `${outside}/abs`, data: 'e3' },
      ]),
    );
    await add(opts(['evil.tar'], '/x/'));
    expect(await readFile(join(dest, 'x/evil'), 'utf8')).toBe('e1');
    expect(await readFile(join(dest, 'x/tmp/evil2'), 'utf8')).toBe('e2');
    expect(await readFile(join(dest, 'x', outside, 'abs'), 'utf8')).toBe('e3');
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(dest)).toEqual(['x']);
  });

  it('writes through archive symlinks only inside the destination directory', async () => {
    await writeFile(
      join(ctx, 'links.tar'),
      await tarOf([
        { name: 'run/', type: 'directory' },
        { name: 'var/', type: 'directory' },
        { name: 'var/run', type: 'symlink', linkname: '/run' },
        { name: 'esc', type: 'symlink', linkname: outside },
        { name: 'up', type: 'symlink', linkname: '../../../../../../..' + outside },
        { name: 'var/run/act/HEAD', data: 'ref' },
        { name: 'var/run/act/HEAD.link', type: 'link', linkname: 'var/run/act/HEAD' },
        { name: 'esc/through-abs', data: 'p1' },
        { name: 'up/through-rel', data: 'p2' },
      ]),
    );
    await add(opts(['links.tar'], '/'));
    expect(await readFile(join(dest, 'run/act/HEAD'), 'utf8')).toBe('ref');
    const [a, b] = await Promise.all([lstat(join(dest, 'run/act/HEAD')), lstat(join(dest, 'run/act/HEAD.link'))]);
    expect(a.ino).toBe(b.ino);
    expect(await readlink(join(dest, 'esc'))).toBe(outside); // kept as written: it means the image's path
    expect(await readdir(outside)).toEqual([]);
    expect(await readFile(join(dest, outside, 'through-abs'), 'utf8')).toBe('p1');
    expect(await readFile(join(dest, outside, 'through-rel'), 'utf8')).toBe('p2');
  });

  it('refuses a hard link to something not extracted, without touching the outside', async () => {
    await writeFile(join(outside, 'target'), 'T');
    await writeFile(join(ctx, 'hl.tar'), await tarOf([{ name: 'hl', type: 'link', linkname: `../../../../..${outside}/target` }]));
    await expect(add(opts(['hl.tar'], '/'))).rejects.toMatchObject({ code: 'COPY_FAILED' });
    expect((await lstat(join(outside, 'target'))).nlink).toBe(1);
  });

  it.skipIf(!isRoot && !isCI)('extracts names that are not UTF-8 and binary xattr values with their exact bytes', async () => {
    // GNU tar writes the archive: short names in the ustar fields, a long one in a PAX record.
    const src = await tempDir('tsbuild-archive-src-');
    try {
      const long = 'x'.repeat(120);
      mkdirSync(rawPathIn(src, 'd', [0xfe]));
      writeFileSync(rawPathIn(src, 'd', [0xfe], '/f', [0xff]), 'raw');
      writeFileSync(rawPathIn(src, long, [0x80]), 'long');
      symlinkSync(Buffer.from([0x74, 0xff]), rawPathIn(src, 'l'));
      native().lsetxattr(rawPathIn(src, 'd', [0xfe], '/f', [0xff]), 'user.k', Buffer.from([0, 255, 10]), 0);
      execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=user.*', '-czf', join(ctx, 't.tgz'), '-C', src, '.']);
      await add(opts(['t.tgz'], '/x/', { xattrs: fileXattrs }));
      const names = (dir: Buffer): Buffer[] => readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
      expect(names(rawPathIn(dest, 'x'))).toEqual([Buffer.from('d\xfe', 'latin1'), Buffer.from('l'), Buffer.from(`${long}\x80`, 'latin1')]);
      expect(readFileSync(rawPathIn(dest, 'x/d', [0xfe], '/f', [0xff]), 'utf8')).toBe('raw');
      expect(readFileSync(rawPathIn(dest, `x/${long}`, [0x80]), 'utf8')).toBe('long');
      expect(readlinkSync(rawPathIn(dest, 'x/l'), { encoding: 'buffer' })).toEqual(Buffer.from([0x74, 0xff]));
      expect(native().lgetxattr(rawPathIn(dest, 'x/d', [0xfe], '/f', [0xff]), 'user.k')).toEqual(Buffer.from([0, 255, 10]));
    } finally {
      await removeDir(src);
    }
  });

  it('extracts every archive a wildcard matches', async () => {
    await writeFile(join(ctx, 't.tar'), await tarOf([{ name: 'foo', data: 'content0' }]));
    await writeFile(join(ctx, 'b.tar'), await tarOf([{ name: 'bar', data: 'content1' }]));
    await add(opts(['*.tar'], '/dest'));
    expect(await readFile(join(dest, 'dest/foo'), 'utf8')).toBe('content0');
    expect(await readFile(join(dest, 'dest/bar'), 'utf8')).toBe('content1');
  });
});
