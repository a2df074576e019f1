import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { pack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { native } from '../native/index.js';
import { applyTar, pathComponents } from './apply.js';
import { isSnapshotError } from './errors.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from '../tarfs/index.js';

import { isCI, isRoot } from '../test/support/env.js';
import { rawPathIn, type PathPart } from '../test/support/raw-path.js';

type PackEntry = Parameters<ReturnType<typeof pack>['entry']>[0] & { body?: string };

async function tarBuffer(entries: readonly PackEntry[]): Promise<Buffer> {
  const p = pack();
  for (const { body, ...h } of entries) p.entry({ mtime: new Date(1_600_000_000_000), ...h }, body ?? '');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

let dir: string;
let target: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-apply-'));
  target = join(dir, 'target');
  await mkdir(target);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function apply(entries: readonly PackEntry[], compress?: (b: Buffer) => Buffer): Promise<void> {
  const tar = await tarBuffer(entries);
  await applyTar(Readable.from([compress ? compress(tar) : tar]), target);
}

async function reason(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (isSnapshotError(e)) return e.reason;
    throw e;
  }
}

describe('pathComponents', () => {
  it('drops leading slashes and dots, refuses ..', () => {
    expect(pathComponents('/etc//passwd')).toEqual(['etc', 'passwd']);
    expect(pathComponents('./a/./b/')).toEqual(['a', 'b']);
    expect(pathComponents('./')).toEqual([]);
    expect(() => pathComponents('a/../../b')).toThrow(expect.objectContaining({ reason: 'UNSAFE_ENTRY' }));
  });
});

describe.skipIf(!isRoot && !isCI)('applyTar', () => {
  it('creates files, dirs, symlinks and hard links with their metadata', async () => {
    await apply([
      { name: 'd', type: 'directory', mode: 0o750, uid: 5, gid: 6, mtime: new Date(1_000_000_000_000) },
      { name: 'd/f', mode: 0o4755, uid: 7, gid: 8, body: 'content' },
      { name: 'd/s', type: 'symlink', linkname: '/nowhere/at/all' },
      { name: 'd/h', type: 'link', linkname: 'd/f' },
    ]);
    const d = await lstat(join(target, 'd'));
    expect([d.mode & 0o7777, d.uid, d.gid, d.mtimeMs]).toEqual([0o750, 5, 6, 1_000_000_000_000]);
    const f = await lstat(join(target, 'd', 'f'));
    expect([f.mode & 0o7777, f.uid, f.gid, f.nlink, f.mtimeMs]).toEqual([0o4755, 7, 8, 2, 1_600_000_000_000]);
    expect(await readFile(join(target, 'd', 'h'), 'utf8')).toBe('content');
    expect(await readlink(join(target, 'd', 's'))).toBe('/nowhere/at/all');
  });

  it('writes names that are not UTF-8 with their exact bytes, whiteouts, links and metadata included', async () => {
    const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_600_000_000 } as const;
    const long = `${'x'.repeat(120)}\uDCFF`; // in a PAX path record
    const entries: [TarHeader, string?][] = [
      [{ ...base, name: 'd\uDCFE', type: 'dir', mode: 0o750, uid: 5, gid: 6 }],
      [{ ...base, name: 'd\uDCFE/f\uDC80', type: 'file', size: 3, uid: 7, xattrs: [['user.k', Buffer.from('v')]] }, 'raw'],
      [{ ...base, name: 'd\uDCFE/h\uDCFA', type: 'link', linkname: 'd\uDCFE/f\uDC80' }],
      [{ ...base, name: 'l', type: 'symlink', linkname: '../t\uDCFF' }],
      [{ ...base, name: '.wh.w\uDCFE', type: 'file' }],
      [{ ...base, name: `${long}/.wh..wh..opq`, type: 'file' }],
      [{ ...base, name: `${long}/inside`, type: 'file', size: 4 }, 'deep'],
    ];
    const parts: Buffer[] = [];
    for (const [h, body] of entries) {
      parts.push(encodeHeader(h));
      if (body !== undefined) parts.push(Buffer.from(body), padding(body.length));
    }
    parts.push(END_OF_ARCHIVE);
    await applyTar(Readable.from([Buffer.concat(parts)]), target);

    const at = (...parts: PathPart[]): Buffer => rawPathIn(target, ...parts);
    const longBytes = ['x'.repeat(120), [0xff]];
    expect(readdirSync(target, { encoding: 'buffer' }).sort(Buffer.compare)).toEqual([
      Buffer.from('d\xfe', 'latin1'),
      Buffer.from('l'),
      Buffer.from('w\xfe', 'latin1'),
      Buffer.from(`${'x'.repeat(120)}\xff`, 'latin1'),
    ]);
    const d = lstatSync(at('d', [0xfe]));
    expect([d.mode & 0o7777, d.uid, d.gid]).toEqual([0o750, 5, 6]);
    const f = lstatSync(at('d', [0xfe], '/f', [0x80]));
    expect([f.uid, f.nlink, f.mtimeMs]).toEqual([7, 2, 1_600_000_000_000]);
    expect(readFileSync(at('d', [0xfe], '/h', [0xfa]), 'utf8')).toBe('raw');
    expect(native().lgetxattr(at('d', [0xfe], '/f', [0x80]), 'user.k')?.toString()).toBe('v');
    expect(readlinkSync(at('l'), { encoding: 'buffer' })).toEqual(Buffer.from('../t\xff', 'latin1'));
    const wh = lstatSync(at('w', [0xfe]));
    expect([wh.isCharacterDevice(), wh.rdev]).toEqual([true, 0]);
    expect(native().lgetxattr(at(...longBytes), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(readFileSync(at(...longBytes, '/inside'), 'utf8')).toBe('deep');
  });

  it('turns .wh. entries into whiteouts and .wh..wh..opq into an opaque dir', async () => {
    await apply([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.gone', body: '' },
      { name: 'opt/dir/.wh..wh..opq', body: '' },
      { name: 'opt/dir/', type: 'directory', mode: 0o711 },
      { name: 'opt/.wh..wh.plnk', body: '' },
    ]);
    const wh = await lstat(join(target, 'etc', 'gone'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(native().lgetxattr(join(target, 'opt', 'dir'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect((await lstat(join(target, 'opt', 'dir'))).mode & 0o7777).toBe(0o711);
    expect(await readdir(join(target, 'opt'))).toEqual(['dir']);
  });

  it('restores xattrs, capabilities included, but never overlay\'s own', async () => {
    const cap = Buffer.from('0100000200040000000000000000000000000000', 'hex');
    await apply([
      {
        name: 'tool',
        body: 'x',
        uid: 3,
        pax: { 'SCHILY.xattr.user.plain': 'v', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' },
      },
    ]);
    expect(native().lgetxattr(join(target, 'tool'), 'user.plain')?.toString()).toBe('v');
    expect(native().llistxattr(join(target, 'tool'))).toEqual(['user.plain']);
    // tar-stream cannot write binary PAX values; the diff round trip in layers.test.ts covers them.
    void cap;
  });

  it('makes absolute names relative and lets later entries replace earlier ones', async () => {
    await apply([
      { name: '/abs/file', body: 'one' },
      { name: '/abs/file', body: 'two' },
      { name: 'abs/dir/', type: 'directory' },
      { name: 'abs/dir/inner', body: 'x' },
      { name: 'abs/dir', body: 'now a file' },
    ]);
    expect(await readFile(join(target, 'abs', 'file'), 'utf8')).toBe('two');
    expect(await readFile(join(target, 'abs', 'dir'), 'utf8')).toBe('now a file');
  });

  it('accepts gzip and zstd', async () => {
    await apply([{ name: 'gz', body: 'zipped' }], (b) => zlib.gzipSync(b));
    expect(await readFile(join(target, 'gz'), 'utf8')).toBe('zipped');
    await rm(target, { recursive: true });
    await mkdir(target);
    // zstd as the zstd program writes it (zlib has zstd only from Node 22.15).
    await apply([{ name: 'zs', body: 'z' }], (b) => spawnSync('zstd', ['-q', '-c'], { input: b }).stdout);
    expect(await readFile(join(target, 'zs'), 'utf8')).toBe('z');
  });

  it('reports a corrupt gzip stream as BAD_TAR', async () => {
    const gz = zlib.gzipSync(await tarBuffer([{ name: 'f', body: 'x'.repeat(10_000) }]));
    expect(await reason(applyTar(Readable.from([gz.subarray(0, 40), Buffer.alloc(100, 0x55)]), target))).toBe('BAD_TAR');
  });

  it('refuses a target that is not empty', async () => {
    await writeFile(join(target, 'x'), '');
    expect(await reason(apply([{ name: 'f', body: 'x' }]))).toBe('INVALID_ARGUMENT');
  });

  it('refuses .., symlinked parents and hard links out of the layer', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 's');
    const cases: PackEntry[][] = [
      [{ name: '../escape', body: 'x' }],
      [{ name: 'a/../../escape', body: 'x' }],
      [
        { name: 'a', type: 'symlink', linkname: '/' },
        { name: `a${outside}/evil`, body: 'x' },
      ],
      [
        { name: 'b', type: 'symlink', linkname: '../outside' },
        { name: 'b/evil', body: 'x' },
      ],
      [{ name: 'h', type: 'link', linkname: '../outside/secret' }],
      [
        { name: 'c', type: 'symlink', linkname: outside },
        { name: 'h', type: 'link', linkname: 'c/secret' },
      ],
      [{ name: 'h', type: 'link', linkname: `${outside}/secret` }], // relative inside: does not exist
      [{ name: '.wh...', body: '' }],
    ];
    for (const entries of cases) {
      await rm(target, { recursive: true });
      await mkdir(target);
      expect(await reason(apply(entries)), JSON.stringify(entries)).toBe('UNSAFE_ENTRY');
      expect(await readdir(outside)).toEqual(['secret']);
      expect(await readdir(dir)).toEqual(['outside', 'target'].sort());
    }
    expect((await stat(join(outside, 'secret'))).nlink).toBe(1);
  });

  it('sets directory mtimes after their content is written', async () => {
    await apply([
      { name: 'd/', type: 'directory', mtime: new Date(1_234_000_000) },
      { name: 'd/a', body: 'a' },
      { name: 'd/b', type: 'link', linkname: 'd/a' },
      { name: 'd/.wh.c', body: '' },
    ]);
    expect((await lstat(join(target, 'd'))).mtimeMs).toBe(1_234_000_000);
  });
});
