import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asDigest, type Digest } from '../content/index.js';
import { S_IFIFO, native } from '../native/index.js';
import { fileXattrs } from '../snapshotter/index.js';
import { isCI, isRoot } from '../test/support/env.js';
import { rawLines, rawNames, rawPath, rawPathIn, type PathPart } from '../test/support/raw-path.js';
import { isExporterError, writeRootfsDir, writeRootfsTar } from './index.js';
import { layerTar, mustRun, type FixtureEntry } from './testing.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-rootfs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Layers by fake diff id; the functions under test only pass ids back to the opener. */
function layers(...defs: (readonly FixtureEntry[])[]): { ids: Digest[]; open: (d: Digest) => Readable } {
  const ids = defs.map((_, i) => asDigest(`sha256:${String(i).repeat(64)}`));
  return { ids, open: (d) => layerTar(defs[ids.indexOf(d)]!) };
}

const stack = layers(
  [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/a', type: 'file', content: 'a1' },
    { name: 'etc/b', type: 'file', content: 'b1' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/x', type: 'file', content: 'x' },
    { name: 'opt/sub/', type: 'directory' },
    { name: 'opt/sub/y', type: 'file', content: 'y' },
    { name: 'gone/', type: 'directory' },
    { name: 'gone/deep/', type: 'directory' },
    { name: 'gone/deep/f', type: 'file', content: 'f' },
    { name: 'usr/', type: 'directory' },
    { name: 'usr/keep', type: 'file', content: 'k', mode: 0o750 },
    { name: 'usr/hard', type: 'link', linkname: 'usr/keep' },
    { name: 'link', type: 'symlink', linkname: 'etc/a' },
  ],
  [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/a', type: 'file', content: 'a2' },
    { name: 'etc/.wh.b', type: 'file', content: '' },
    { name: '.wh.gone', type: 'file', content: '' },
    { name: 'opt/', type: 'directory', mode: 0o700 },
    { name: 'opt/.wh..wh..opq', type: 'file', content: '' },
    { name: 'opt/z', type: 'file', content: 'z' },
    { name: 'newdir/', type: 'directory' },
    { name: 'newdir/f', type: 'file', content: 'new' },
  ],
  [
    { name: 'etc/b', type: 'file', content: 'b3' },
  ],
);

const expectedFiles: Record<string, string> = {
  'etc/a': 'a2',
  'etc/b': 'b3',
  'opt/z': 'z',
  'newdir/f': 'new',
  'usr/keep': 'k',
  'usr/hard': 'k',
};

async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      out.push(relative(root, p) + (st.isDirectory() ? '/' : ''));
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(root);
  return out;
}

const expectedTree = ['etc/', 'etc/a', 'etc/b', 'link', 'newdir/', 'newdir/f', 'opt/', 'opt/z', 'usr/', 'usr/hard', 'usr/keep'];

async function checkRootfs(root: string): Promise<void> {
  expect(await tree(root)).toEqual(expectedTree);
  for (const [path, content] of Object.entries(expectedFiles)) expect(await readFile(join(root, path), 'utf8')).toBe(content);
  expect(await readlink(join(root, 'link'))).toBe('etc/a');
  expect((await lstat(join(root, 'opt'))).mode & 0o777).toBe(0o700);
  expect((await lstat(join(root, 'usr/keep'))).mode & 0o777).toBe(0o750);
  expect((await lstat(join(root, 'usr/keep'))).ino).toBe((await lstat(join(root, 'usr/hard'))).ino);
}

describe('rootfs outputs', () => {
  it('a directory: layers applied in order, whiteouts and opaque directories honoured', async () => {
    const dest = join(dir, 'rootfs');
    await writeRootfsDir(dest, stack.ids, stack.open);
    await checkRootfs(dest);
  });

  it('a flattened tar: GNU tar extracts the same tree', async () => {
    const dest = join(dir, 'rootfs.tar');
    await writeRootfsTar(dest, stack.ids, stack.open);
    const listing = (await mustRun('tar', ['-tf', dest])).trim().split('\n');
    expect(listing.some((n) => n.includes('.wh.'))).toBe(false);
    expect(new Set(listing).size).toBe(listing.length); // every path once
    const out = join(dir, 'extracted');
    await mkdir(out);
    await mustRun('tar', ['-xpf', dest, '-C', out]);
    await checkRootfs(out);
  });

  it('replacing the directory at an existing dest', async () => {
    const dest = join(dir, 'rootfs');
    await mkdir(join(dest, 'stale'), { recursive: true });
    await writeRootfsDir(dest, stack.ids, stack.open);
    expect(existsSync(join(dest, 'stale'))).toBe(false);
  });

  it('never writes outside the root: .. names are refused, symlinked parents stay inside', async () => {
    const evil = layers([{ name: '../evil', type: 'file', content: 'x' }]);
    await expect(writeRootfsDir(join(dir, 'r1'), evil.ids, evil.open)).rejects.toSatisfy((e) => isExporterError(e, 'UNSAFE_LAYER'));
    expect(existsSync(join(dir, 'r1'))).toBe(false);
    const outside = join(dir, 'outside');
    const escape = layers(
      [{ name: 'esc', type: 'symlink', linkname: outside }],
      [{ name: 'esc/pwned', type: 'file', content: 'x' }],
    );
    await writeRootfsDir(join(dir, 'r2'), escape.ids, escape.open);
    expect(existsSync(join(outside, 'pwned'))).toBe(false);
    expect(await readFile(join(dir, 'r2', outside, 'pwned'), 'utf8')).toBe('x');
  });

  it('a hard link whose target a later layer replaces cannot be flattened into a tar (loudly)', async () => {
    const l = layers(
      [{ name: 'a', type: 'file', content: '1' }, { name: 'b', type: 'link', linkname: 'a' }],
      [{ name: 'a', type: 'file', content: '2' }],
    );
    await expect(writeRootfsTar(join(dir, 'x.tar'), l.ids, l.open)).rejects.toSatisfy((e) => isExporterError(e, 'NOT_SUPPORTED'));
    // The directory output applies layers one by one, so it gets it right.
    await writeRootfsDir(join(dir, 'x'), l.ids, l.open);
    expect(await readFile(join(dir, 'x', 'b'), 'utf8')).toBe('1');
    expect(await readFile(join(dir, 'x', 'a'), 'utf8')).toBe('2');
  });
});

describe('rootfs outputs: names that are not UTF-8', () => {
  // The layers are written by GNU tar (POSIX format: short names in the ustar fields, a long
  // one in a PAX record, xattrs as SCHILY.xattr records), not by our encoder.
  const long = 'x'.repeat(120);
  const cap = Buffer.from([0, 255, 10]);

  /** Layer tars made by GNU tar from two directories; their opener by fake diff id. */
  function gnuLayers(): { ids: Digest[]; open: (d: Digest) => Readable } {
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    const lo = (...parts: PathPart[]) => rawPathIn(lower, ...parts);
    const up = (...parts: PathPart[]) => rawPathIn(upper, ...parts);
    mkdirSync(lower);
    writeFileSync(lo('b', [0xff]), 'raw');
    native().lsetxattr(lo('b', [0xff]), 'user.k', cap, 0);
    linkSync(lo('b', [0xff]), lo('h', [0xfd]));
    symlinkSync(rawPath('b', [0xff]), lo('l'));
    mkdirSync(lo('d', [0xfe]));
    writeFileSync(lo('d', [0xfe], '/inside'), 'inside');
    writeFileSync(lo('gone', [0xfc]), 'gone');
    mkdirSync(lo('o', [0xfb]));
    writeFileSync(lo('o', [0xfb], '/old'), 'old');
    writeFileSync(lo(long, [0x80]), 'long');
    native().mknod(lo('p', [0xfa]), S_IFIFO | 0o640, 0);
    mkdirSync(upper);
    writeFileSync(up('.wh.gone', [0xfc]), '');
    mkdirSync(up('o', [0xfb]));
    writeFileSync(up('o', [0xfb], '/.wh..wh..opq'), '');
    writeFileSync(up('o', [0xfb], '/new'), 'new');
    const tars = [lower, upper].map((src) => {
      const tar = `${src}.tar`;
      execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=user.*', '--sort=name', '-cf', tar, '-C', src, '.']);
      return tar;
    });
    const ids = tars.map((_, i) => asDigest(`sha256:${String(i).repeat(64)}`));
    return { ids, open: (d) => createReadStream(tars[ids.indexOf(d)]!) };
  }

  /** The tree both layers make, checked by the bytes of its names. */
  function checkTree(root: string): void {
    const at = (...parts: PathPart[]) => rawPathIn(root, ...parts);
    expect(rawNames(root)).toEqual([rawPath('b', [0xff]), rawPath('d', [0xfe]), rawPath('h', [0xfd]), rawPath('l'), rawPath('o', [0xfb]), rawPath('p', [0xfa]), rawPath(long, [0x80])]);
    expect(rawNames(at('d', [0xfe]))).toEqual([rawPath('inside')]);
    expect(rawNames(at('o', [0xfb]))).toEqual([rawPath('new')]);
    expect(readFileSync(at('b', [0xff]), 'utf8')).toBe('raw');
    expect(readFileSync(at('d', [0xfe], '/inside'), 'utf8')).toBe('inside');
    expect(readFileSync(at(long, [0x80]), 'utf8')).toBe('long');
    expect(readlinkSync(at('l'), { encoding: 'buffer' })).toEqual(rawPath('b', [0xff]));
    expect(lstatSync(at('h', [0xfd])).ino).toBe(lstatSync(at('b', [0xff])).ino);
    expect(lstatSync(at('p', [0xfa])).isFIFO()).toBe(true);
    expect(lstatSync(at('p', [0xfa])).mode & 0o777).toBe(0o640);
    expect(native().lgetxattr(at('b', [0xff]), 'user.k')).toEqual(cap);
  }

  it.skipIf(!isRoot && !isCI)('a directory keeps their bytes: files, links, a FIFO, xattrs, whiteouts and opaque directories', async () => {
    const l = gnuLayers();
    const dest = join(dir, 'rootfs');
    await writeRootfsDir(dest, l.ids, l.open, { setXattr: (path, name, value) => fileXattrs.set(path, name, value) });
    checkTree(dest);
  });

  it.skipIf(!isRoot && !isCI)('a flattened tar keeps their bytes: GNU tar lists and extracts them', async () => {
    const l = gnuLayers();
    const dest = join(dir, 'rootfs.tar');
    await writeRootfsTar(dest, l.ids, l.open);
    const listed = rawLines(execFileSync('tar', ['--quoting-style=literal', '-tf', dest]));
    expect(listed.sort(Buffer.compare)).toEqual([
      rawPath('b', [0xff]), rawPath('d', [0xfe], '/'), rawPath('d', [0xfe], '/inside'), rawPath('h', [0xfd]), rawPath('l'),
      rawPath('o', [0xfb], '/'), rawPath('o', [0xfb], '/new'), rawPath('p', [0xfa]), rawPath(long, [0x80]),
    ]);
    const out = join(dir, 'extracted');
    mkdirSync(out);
    execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '-xpf', dest, '-C', out]);
    checkTree(out);
  });
});
