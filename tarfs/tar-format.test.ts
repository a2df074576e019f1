/**
 * The tar encoder and reader checked against implementations nobody here wrote: tar-stream and
 * GNU tar (which reads and writes SCHILY.xattr records as raw bytes, as we do).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { native } from '../native/index.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from './tar-format.js';
import { readTar } from './tar-reader.js';

const hasGnuTar = spawnSync('tar', ['--version']).status === 0;
import { isCI, isRoot } from '../test/support/env.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function archive(entries: readonly (readonly [TarHeader, Buffer?])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [h, body] of entries) {
    parts.push(encodeHeader(h));
    if (body !== undefined) parts.push(body, padding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

async function extractWithTarStream(tar: Buffer): Promise<Header[]> {
  const headers: Header[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      headers.push(h);
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return headers;
}

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 };
const longName = `${'d'.repeat(150)}/${'n'.repeat(90)}`; // fits ustar prefix + name
const veryLongName = `${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(120)}`; // needs PAX path

describe('encodeHeader', () => {
  it('writes headers tar-stream reads back: long names, big ids, links, devices', async () => {
    const tar = archive([
      [{ ...base, name: 'dir', type: 'dir', mode: 0o755 }],
      [{ ...base, name: 'dir/file', type: 'file', size: 5, mode: 0o4755, uid: 1000, gid: 100 }, Buffer.from('hello')],
      [{ ...base, name: longName, type: 'file', size: 1 }, Buffer.from('x')],
      [{ ...base, name: veryLongName, type: 'file', size: 0 }],
      [{ ...base, name: 'big-ids', type: 'file', uid: 3_000_000, gid: 4_000_000 }],
      [{ ...base, name: 'sym', type: 'symlink', linkname: 'z'.repeat(150) }],
      [{ ...base, name: 'hard', type: 'link', linkname: 'dir/file' }],
      [{ ...base, name: 'null', type: 'char', devmajor: 1, devminor: 3 }],
      [{ ...base, name: '\u00e9t\u00e9', type: 'fifo' }],
    ]);
    expect(tar.length % 512).toBe(0);
    const hs = await extractWithTarStream(tar);
    expect(hs.map((h) => [h.name, h.type])).toEqual([
      ['dir/', 'directory'],
      ['dir/file', 'file'],
      [longName, 'file'],
      [veryLongName, 'file'],
      ['big-ids', 'file'],
      ['sym', 'symlink'],
      ['hard', 'link'],
      ['null', 'character-device'],
      ['\u00e9t\u00e9', 'fifo'],
    ]);
    expect(hs[1]).toMatchObject({ mode: 0o4755, uid: 1000, gid: 100, size: 5, uname: '', gname: '' });
    expect(hs[1]!.mtime?.getTime()).toBe(1_700_000_000_000);
    expect(hs[4]!.pax).toMatchObject({ uid: '3000000', gid: '4000000' });
    expect(hs[5]!.linkname).toBe('z'.repeat(150));
    expect(hs[6]!.linkname).toBe('dir/file');
    expect(hs[7]).toMatchObject({ devmajor: 1, devminor: 3 });
  });

  it('round-trips through readTar, binary xattrs and PAX numbers included', async () => {
    const cap = Buffer.from('0100000200040000000000000000000000000000', 'hex');
    const tar = archive([
      [{ ...base, name: veryLongName, type: 'file', size: 3, uid: 3_000_000, xattrs: [['security.capability', cap], ['user.x', Buffer.from([0, 255, 10])]] }, Buffer.from('abc')],
    ]);
    const entries = [];
    for await (const { header, body } of readTar(Readable.from([tar.subarray(0, 700), tar.subarray(700)]))) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      entries.push({ header, content: Buffer.concat(chunks).toString() });
    }
    expect(entries).toHaveLength(1);
    const { header, content } = entries[0]!;
    expect(content).toBe('abc');
    expect(header).toMatchObject({ name: veryLongName, uid: 3_000_000, size: 3, mtime: 1_700_000_000 });
    expect(header.xattrs.get('security.capability')).toEqual(cap);
    expect(header.xattrs.get('user.x')).toEqual(Buffer.from([0, 255, 10]));
  });

  it('writes a fraction of a second to a PAX mtime record, the whole seconds to the ustar field', async () => {
    const tar = archive([[{ ...base, name: 'f', type: 'file', mtime: 1_700_000_000.25 }, Buffer.alloc(0)]]);
    const [h] = await extractWithTarStream(tar);
    expect(h!.mtime?.getTime()).toBe(1_700_000_000_000);
    expect(h!.pax).toMatchObject({ mtime: '1700000000.25' });
    for await (const { header } of readTar(Readable.from([tar]))) expect(header.mtime).toBe(1_700_000_000.25);
  });

  it('writes a name that is not UTF-8 as its bytes: in the ustar fields when it fits, else in a PAX record', async () => {
    const longRaw = `${'x'.repeat(120)}\uDCFF/${'y'.repeat(120)}\uDCFE`; // splits nowhere: PAX path
    const tar = archive([
      [{ ...base, name: 'b\uDCFF', type: 'file', size: 1 }, Buffer.from('1')],
      [{ ...base, name: 'd\uDCFE', type: 'dir', mode: 0o755 }],
      [{ ...base, name: 'l\uDC80', type: 'symlink', linkname: 't\uDCFF' }],
      [{ ...base, name: longRaw, type: 'file', size: 0 }],
      [{ ...base, name: 'h', type: 'link', linkname: `${'z'.repeat(120)}\uDCFA` }],
    ]);
    // The ustar name field of the first entry, byte for byte, NUL-terminated.
    expect(tar.subarray(0, 3)).toEqual(Buffer.from([0x62, 0xff, 0]));
    expect(tar.subarray(1024, 1027)).toEqual(Buffer.from([0x64, 0xfe, 0x2f]));
    expect(tar.subarray(1536 + 157, 1536 + 160)).toEqual(Buffer.from([0x74, 0xff, 0]));
    // The PAX records hold the raw bytes, as Go's archive/tar writes them.
    const rawPath = Buffer.concat([Buffer.from('x'.repeat(120)), Buffer.of(0xff), Buffer.from(`/${'y'.repeat(120)}`), Buffer.of(0xfe)]);
    expect(tar.indexOf(Buffer.concat([Buffer.from(' path='), rawPath, Buffer.from('\n')]))).toBeGreaterThan(0);
    expect(tar.indexOf(Buffer.concat([Buffer.from(` linkpath=${'z'.repeat(120)}`), Buffer.of(0xfa, 0x0a)]))).toBeGreaterThan(0);
    const seen: [string, string][] = [];
    for await (const { header } of readTar(Readable.from([tar]))) seen.push([header.name, header.linkname]);
    expect(seen).toEqual([
      ['b\uDCFF', ''],
      ['d\uDCFE/', ''],
      ['l\uDC80', 't\uDCFF'],
      [longRaw, ''],
      ['h', `${'z'.repeat(120)}\uDCFA`],
    ]);
  });
});

describe('readTar', () => {
  it('reads what tar-stream writes, skipping unread bodies', async () => {
    const p = pack();
    p.entry({ name: 'a', size: 3 }, 'abc');
    p.entry({ name: 'b/', type: 'directory', mode: 0o700 });
    p.entry({ name: 'b/' + 'q'.repeat(200), size: 1 }, 'q');
    p.finalize();
    const names: string[] = [];
    for await (const { header } of readTar(p as unknown as AsyncIterable<Uint8Array>)) names.push(`${header.type}:${header.name}`);
    expect(names).toEqual(['file:a', 'dir:b/', `file:b/${'q'.repeat(200)}`]);
  });

  it('refuses a corrupt header', async () => {
    const tar = archive([[{ ...base, name: 'f', type: 'file', size: 1 }, Buffer.from('x')]]);
    tar[3] = 0x41;
    const run = async () => {
      for await (const e of readTar(Readable.from([tar]))) void e;
    };
    await expect(run()).rejects.toMatchObject({ reason: 'BAD_TAR' });
  });
});

describe.skipIf((!hasGnuTar || !isRoot) && !isCI)('GNU tar', () => {
  it('extracts our archive with binary xattrs intact', async () => {
    const cap = Buffer.from('0100000200040000000000000000000000000000', 'hex');
    const tar = archive([
      [{ ...base, name: 'bin', type: 'dir', mode: 0o755 }],
      [{ ...base, name: 'bin/tool', type: 'file', mode: 0o755, size: 2, xattrs: [['security.capability', cap]] }, Buffer.from('hi')],
      [{ ...base, name: veryLongName, type: 'file', size: 0 }],
    ]);
    await writeFile(join(dir, 'layer.tar'), tar);
    await mkdir(join(dir, 'out'));
    const r = spawnSync('tar', ['--xattrs', '--xattrs-include=*', '-xpf', join(dir, 'layer.tar'), '-C', join(dir, 'out')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(await readFile(join(dir, 'out', 'bin', 'tool'), 'utf8')).toBe('hi');
    expect(native().lgetxattr(join(dir, 'out', 'bin', 'tool'), 'security.capability')).toEqual(cap);
  });

  it('reads what GNU tar writes in POSIX format, xattrs included', async () => {
    await mkdir(join(dir, 'src', 'sub'), { recursive: true });
    await writeFile(join(dir, 'src', 'sub', 'f'), 'content');
    native().lsetxattr(join(dir, 'src', 'sub', 'f'), 'user.k', Buffer.from([1, 2, 200]), 0);
    const r = spawnSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-cf', join(dir, 'g.tar'), '-C', join(dir, 'src'), 'sub']);
    expect(r.status).toBe(0);
    const seen: string[] = [];
    for await (const { header, body } of readTar(Readable.from([await readFile(join(dir, 'g.tar'))]))) {
      for await (const c of body) void c;
      seen.push(header.name);
      if (header.name === 'sub/f') expect(header.xattrs.get('user.k')).toEqual(Buffer.from([1, 2, 200]));
    }
    expect(seen).toEqual(['sub/', 'sub/f']);
  });

  it('extracts names that are not UTF-8 from our archive with their exact bytes', async () => {
    const longDir = `${'x'.repeat(120)}\uDCFF`;
    const tar = archive([
      [{ ...base, name: 'b\uDCFF', type: 'file', size: 2 }, Buffer.from('hi')],
      [{ ...base, name: longDir, type: 'dir', mode: 0o755 }],
      [{ ...base, name: `${longDir}/f\uDC80`, type: 'file', size: 0 }],
    ]);
    await writeFile(join(dir, 'layer.tar'), tar);
    await mkdir(join(dir, 'out'));
    const r = spawnSync('tar', ['-xf', join(dir, 'layer.tar'), '-C', join(dir, 'out')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const longBytes = Buffer.concat([Buffer.from('x'.repeat(120)), Buffer.of(0xff)]);
    expect(readdirSync(join(dir, 'out'), { encoding: 'buffer' }).sort(Buffer.compare)).toEqual([Buffer.from([0x62, 0xff]), longBytes]);
    expect(readFileSync(Buffer.concat([Buffer.from(join(dir, 'out') + '/'), Buffer.from([0x62, 0xff])]), 'utf8')).toBe('hi');
    expect(readdirSync(Buffer.concat([Buffer.from(join(dir, 'out') + '/'), longBytes]), { encoding: 'buffer' })).toEqual([Buffer.from([0x66, 0x80])]);
  });

  it('reads names that are not UTF-8 as GNU tar writes them, POSIX and GNU formats, long or not', async () => {
    const src = Buffer.from(join(dir, 'src') + '/');
    const longDir = Buffer.concat([Buffer.from('x'.repeat(120)), Buffer.of(0xff)]);
    await mkdir(join(dir, 'src'));
    mkdirSync(Buffer.concat([src, longDir]));
    writeFileSync(Buffer.concat([src, longDir, Buffer.from('/f'), Buffer.of(0x80)]), 'f');
    writeFileSync(Buffer.concat([src, Buffer.from([0x62, 0xfe])]), 'b');
    for (const format of ['posix', 'gnu']) {
      const r = spawnSync('tar', [`--format=${format}`, '--sort=name', '-cf', join(dir, `${format}.tar`), '-C', join(dir, 'src'), '.']);
      expect(r.status).toBe(0);
      const seen: string[] = [];
      for await (const { header, body } of readTar(Readable.from([await readFile(join(dir, `${format}.tar`))]))) {
        for await (const c of body) void c;
        seen.push(header.name);
      }
      const long = `${'x'.repeat(120)}\uDCFF`;
      expect(seen, format).toEqual(['./', './b\uDCFE', `./${long}/`, `./${long}/f\uDC80`]);
    }
  });
});
