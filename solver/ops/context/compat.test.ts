// Context checksums pinned on trees of every kind of entry: the digests below are those the
// walk by path (readdirSync + lstatSync per entry) gave before the walk read directories with
// the addon's scanDir. A cache key that changes for the same context busts every user's cache,
// so those of a tree whose names are all UTF-8 must never change.
//
// The second tree is the first plus names that are not UTF-8 (b\xff, d\xfe/inside). Its digests
// changed once, on purpose: the walk by path and the scanDir walk after it knew such a name by
// its lossy string, which named no file (d\uFFFD: left out) or another one (b\uFFFD, which the
// key therefore held twice and b\xff not at all), and a COPY of the tree then failed. Now the
// walk knows them by their bytes and the key holds those bytes where a UTF-8 name has its
// UTF-8, so the digests of such a tree had to change; those of an all-UTF-8 tree did not.
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMatcher, parseIgnoreFile } from '../../../patternmatcher/index.js';
import { fileXattrs } from '../../../snapshotter/index.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, makedev, native } from '../../../native/index.js';
import { isCI, isRoot } from '../../../test/support/env.js';
import { rawPath } from '../../../test/support/raw-path.js';
import { checksumPaths, type ChecksumOptions } from './checksum.js';
import { StatCache } from './stat-cache.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The tree of every kind of entry at `ctx`; with `nonUtf8`, names that are not UTF-8 too. Returns its socket's server. */
async function makeTree(ctx: string, nonUtf8: boolean): Promise<Server> {
  const file = (p: string, data: string, mode: number): void => {
    writeFileSync(join(ctx, p), data);
    chmodSync(join(ctx, p), mode);
  };
  const dir = (p: string, mode: number): void => {
    mkdirSync(join(ctx, p));
    chmodSync(join(ctx, p), mode);
  };
  mkdirSync(ctx);
  chmodSync(ctx, 0o755);
  file('a.txt', 'alpha', 0o644);
  dir('b', 0o755);
  file('b/c.txt', 'c', 0o600);
  dir('b/d', 0o700);
  file('b/d/e', 'e', 0o755);
  symlinkSync('../a.txt', join(ctx, 'b/link'));
  symlinkSync('/etc/passwd', join(ctx, 'b/abs-link'));
  dir('empty', 0o755);
  native().mknod(join(ctx, 'fifo'), S_IFIFO | 0o644, 0);
  native().mknod(join(ctx, 'chr'), S_IFCHR | 0o600, makedev(1, 3));
  native().mknod(join(ctx, 'blk'), S_IFBLK | 0o660, makedev(4095, 0xfffff));
  file('new\nline', 'nl', 0o644);
  file('sp ace', 's', 0o644);
  file('ü-umlaut', 'u', 0o644);
  file('Z-upper', 'z', 0o644);
  // UTF-8: the replacement character itself (the lossy string of the name b\xff).
  file('b\uFFFD', 'literal replacement character', 0o644);
  if (nonUtf8) {
    writeFileSync(rawPath(ctx, '/', [0x62, 0xff]), 'not utf-8');
    mkdirSync(rawPath(ctx, '/', [0x64, 0xfe]));
    writeFileSync(rawPath(ctx, '/', [0x64, 0xfe], '/inside'), 'x');
  }
  dir('logs', 0o755);
  dir('logs/keep', 0o755);
  file('logs/keep/important.log', 'i', 0o644);
  file('logs/other.log', 'o', 0o644);
  file('README.md', 'readme', 0o644);
  dir('x', 0o755);
  file('x/keep.log', 'k', 0o644);
  dir('x/sub', 0o755);
  file('x/sub/drop.tmp', 'd', 0o644);
  lchownSync(join(ctx, 'x/keep.log'), 1000, 1001);
  lchownSync(join(ctx, 'b/link'), 7, 8);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(ctx, 'sock2'), resolve));
  await fileXattrs.set(join(ctx, 'a.txt'), 'user.k', Buffer.from('v'));
  await fileXattrs.set(join(ctx, 'b'), 'user.dir', Buffer.from('d'));
  return server;
}

const matcher = compileMatcher(parseIgnoreFile('*.md\nlogs\n!logs/keep/important.log\n*.tmp\n', '.dockerignore'));

/** The digests the compat tests pin, of the tree at `ctx`. */
async function digests(ctx: string): Promise<Record<string, string>> {
  const sum = (selectors: string[], opts: Partial<ChecksumOptions> = {}): Promise<string> =>
    checksumPaths(ctx, selectors, { followLinks: true, ...opts });
  return {
    all: await sum(['.']),
    owners: await sum(['.'], { includeOwnership: true }),
    ignored: await sum(['.'], { matcher }),
    excluded: await sum(['b', 'x'], { exclude: ['d', 'sub/*.tmp'] }),
    wild: await sum(['*.txt', 'b/link', 'b/d/*']),
    nofollow: await sum(['b/link', 'b'], { followLinks: false }),
    xattrs: await sum(['.'], { xattrs: fileXattrs }),
    subdir: await sum(['b/d/e', 'logs/keep'], { matcher }),
  };
}

/** A checksum with a stat cache, then from the saved cache reloaded: the same digest, no file hashed. */
async function viaStatCache(ctx: string, file: string): Promise<{ first: string; second: string; remembered: number; hashed: string[] }> {
  await sleep(150); // past the racy window: files just written are never remembered
  const opts: ChecksumOptions = { followLinks: true, xattrs: fileXattrs, matcher };
  const cache = await StatCache.open(file);
  const first = await checksumPaths(ctx, ['.'], { ...opts, statCache: cache });
  await cache.save();
  const reloaded = await StatCache.open(file);
  const hashed: string[] = [];
  const second = await checksumPaths(ctx, ['.'], { ...opts, statCache: reloaded, hashFile: async (p) => (hashed.push(p), '') });
  return { first, second, remembered: reloaded.size, hashed };
}

describe.skipIf(!isRoot && !isCI)('checksumPaths on a tree of every kind of entry', () => {
  // /var/tmp, not /tmp: tmpfs may refuse user.* attributes.
  const top = mkdtempSync('/var/tmp/tsbuild-ctx-compat-');
  const servers: Server[] = [];
  beforeAll(async () => {
    servers.push(await makeTree(join(top, 'utf8'), false), await makeTree(join(top, 'bytes'), true));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(top, { recursive: true, force: true });
  });

  it('gives the digests the walk by path gave, on names that are all UTF-8', async () => {
    expect(await digests(join(top, 'utf8'))).toEqual({
      all: 'blake3:257303d54b063bf6dcc637c96f3a81f7a773d990d623a0cc0ec0f3a92856a455',
      owners: 'blake3:533ecfb5beb8f28a36ddeb5d139c450a30954f65759e5574ed270196aa71cd73',
      ignored: 'blake3:b9c9e58614202ed85ddad1e044fc9a6d7b0eb3b38b6fc4a52545e6cca00247da',
      excluded: 'blake3:5cbdd9bf3fd7adf2ca2a382d17fc162a38a1d1dccf92752208bebf3db2628159',
      wild: 'blake3:ae0a7ed2e64158eaa6b78a4b2347a4960b4640ce24b3d3b253ebc6d37421cda0',
      nofollow: 'blake3:2c6c68c875a58d47fd08513be953458bdb92720cfe5c55f1e2025ed156e58785',
      xattrs: 'blake3:f5a7459ab9e0bf7251d3c91a02b4e956dfb499c56e049aeeeac23118b9a23085',
      subdir: 'blake3:4d3f0844ae136a5cabffbd1f775a25929b560de34f00c093ae0d6984c745fb15',
    });
  });

  it('gives the same digest from a stat cache, saved and reloaded', async () => {
    expect(await viaStatCache(join(top, 'utf8'), join(top, 'stat-cache-utf8'))).toEqual({
      first: 'blake3:6ff2365d120dec5a65d0a176e89cf9376f59f80fdc8e0ce0fde2a5d14998a8b7',
      second: 'blake3:6ff2365d120dec5a65d0a176e89cf9376f59f80fdc8e0ce0fde2a5d14998a8b7',
      remembered: 11,
      hashed: [],
    });
  });

  it('gives the digests of the names’ bytes, with names that are not UTF-8', async () => {
    // Those that select b\xff or d\xfe changed from the walk by path's; the others did not.
    expect(await digests(join(top, 'bytes'))).toEqual({
      all: 'blake3:efbcff7471d33597d12794c2e1dfd3c9e9045131c435055e645f21fe03e97d6c',
      owners: 'blake3:ff40419bb1028be14f983ebabd415570f8df98fb26f1e6ce05f68b3ceb683c90',
      ignored: 'blake3:d923166ba12b8255be485f48860f1dd8a63b5c19102126b907f15322d971e9d4',
      excluded: 'blake3:5cbdd9bf3fd7adf2ca2a382d17fc162a38a1d1dccf92752208bebf3db2628159',
      wild: 'blake3:ae0a7ed2e64158eaa6b78a4b2347a4960b4640ce24b3d3b253ebc6d37421cda0',
      nofollow: 'blake3:2c6c68c875a58d47fd08513be953458bdb92720cfe5c55f1e2025ed156e58785',
      xattrs: 'blake3:93f8e00db90fa914a81306f40d112c6bcf72f334af9d1996990be15234b6fd92',
      subdir: 'blake3:4d3f0844ae136a5cabffbd1f775a25929b560de34f00c093ae0d6984c745fb15',
    });
  });

  it('gives the same digest from a stat cache, saved and reloaded, with names that are not UTF-8', async () => {
    // The stat cache keeps those names by their bytes too: all 13 files are remembered.
    expect(await viaStatCache(join(top, 'bytes'), join(top, 'stat-cache-bytes'))).toEqual({
      first: 'blake3:7e1391aa2aafdc2ac7df566317c9df75be658e3290148cec3838631063f69ff8',
      second: 'blake3:7e1391aa2aafdc2ac7df566317c9df75be658e3290148cec3838631063f69ff8',
      remembered: 13,
      hashed: [],
    });
  });
});
