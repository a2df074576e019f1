import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S_IFCHR, makedev, native } from '../native/index.js';
import { isCI, isRoot } from '../test/support/env.js';
import { rawPath, rawPathIn, type PathPart } from '../test/support/raw-path.js';
import { diffDigest, diffID, diffTar } from './diff.js';
import { readTar } from '../tarfs/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-diff-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tree of many small files (more than one output chunk's worth), a large file, a link. */
async function tree(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (let d = 0; d < 3; d++) {
    await mkdir(join(dir, `d${d}`));
    for (let f = 0; f < 40; f++) {
      const data = Buffer.alloc(30_000 + f * 13, d * 40 + f);
      files.set(`d${d}/f${f}`, data);
      await writeFile(join(dir, `d${d}`, `f${f}`), data);
    }
  }
  const big = Buffer.alloc(2 * 1024 * 1024 + 333);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  files.set('big', big);
  await writeFile(join(dir, 'big'), big);
  await writeFile(join(dir, 'empty'), '');
  files.set('empty', Buffer.alloc(0));
  await symlink('d0/f0', join(dir, 'link'));
  for (const p of ['d0', 'd1', 'd2', 'big', 'empty', ...files.keys()]) await utimes(join(dir, p), 1_700_000_000, 1_700_000_000);
  return files;
}

describe('diffTar', () => {
  it('holds every file whole, across output chunks, in sorted depth-first order', async () => {
    const files = await tree();
    const names: string[] = [];
    for await (const { header, body } of readTar(diffTar(dir))) {
      names.push(header.name);
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(Buffer.from(c));
      const want = files.get(header.name.replace(/\/$/, ''));
      if (want !== undefined) expect(Buffer.concat(chunks).equals(want), header.name).toBe(true);
      if (header.name === 'link') expect(header.linkname).toBe('d0/f0');
    }
    const f = (d: number) => Array.from({ length: 40 }, (_, i) => `d${d}/f${i}`).sort();
    expect(names).toEqual(['big', 'd0/', ...f(0), 'd1/', ...f(1), 'd2/', ...f(2), 'empty', 'link']);
  });

  it('hands out the tar in chunks of at most 1 MiB, whatever the file sizes', async () => {
    await tree();
    let count = 0;
    for await (const chunk of diffTar(dir)) {
      expect((chunk as Buffer).length).toBeLessThanOrEqual(1024 * 1024);
      count++;
    }
    expect(count).toBeGreaterThan(4);
  });

  it('stores names that are not UTF-8 with their exact bytes, link targets and long names included', async () => {
    const at = (...parts: PathPart[]): Buffer => rawPathIn(dir, ...parts);
    const long = ['x'.repeat(120), [0xff]] as const;
    writeFileSync(at('b', [0xff]), 'raw');
    writeFileSync(at('b\uFFFD'), 'literal');
    mkdirSync(at('d', [0xfe]));
    writeFileSync(at('d', [0xfe], '/inside'), 'in');
    symlinkSync(Buffer.from([0x74, 0xff]), at('l'));
    writeFileSync(at('h', [0x80]), 'linked');
    linkSync(at('h', [0x80]), at('h', [0xfa]));
    mkdirSync(at(...long));
    writeFileSync(at(...long, '/f'), 'deep');

    const tar: Buffer[] = [];
    for await (const chunk of diffTar(dir)) tar.push(chunk as Buffer);
    // GNU tar lists the names as they are in the archive, byte for byte.
    const listed = spawnSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: Buffer.concat(tar) });
    expect(listed.status).toBe(0);
    const lines: Buffer[] = [];
    for (let from = 0, nl = listed.stdout.indexOf(10); nl >= 0; from = nl + 1, nl = listed.stdout.indexOf(10, from)) {
      lines.push(listed.stdout.subarray(from, nl));
    }
    expect(lines).toEqual([
      rawPath('b\uFFFD'),
      rawPath('b', [0xff]),
      rawPath('d', [0xfe], '/'),
      rawPath('d', [0xfe], '/inside'),
      rawPath('h', [0x80]),
      rawPath('h', [0xfa]),
      rawPath('l'),
      rawPath(...long, '/'),
      rawPath(...long, '/f'),
    ]);

    const entries: Record<string, { type: string; linkname: string; content: string }> = {};
    for await (const { header, body } of readTar(Readable.from(tar))) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      entries[header.name] = { type: header.type, linkname: header.linkname, content: Buffer.concat(chunks).toString() };
    }
    expect(entries['b\uDCFF']).toEqual({ type: 'file', linkname: '', content: 'raw' });
    expect(entries['b\uFFFD']).toEqual({ type: 'file', linkname: '', content: 'literal' });
    expect(entries['d\uDCFE/inside']).toEqual({ type: 'file', linkname: '', content: 'in' });
    expect(entries['l']).toMatchObject({ type: 'symlink', linkname: 't\uDCFF' });
    expect(entries['h\uDC80']).toEqual({ type: 'file', linkname: '', content: 'linked' });
    expect(entries['h\uDCFA']).toMatchObject({ type: 'link', linkname: 'h\uDC80' });
    expect(entries[`${'x'.repeat(120)}\uDCFF/f`]).toEqual({ type: 'file', linkname: '', content: 'deep' });
  });

  it.skipIf(!isRoot && !isCI)('writes the whiteout of a name that is not UTF-8 as .wh. and its bytes', async () => {
    native().mknod(Buffer.concat([Buffer.from(`${dir}/w`), Buffer.of(0xfe)]), S_IFCHR, makedev(0, 0));
    const names: string[] = [];
    for await (const { header } of readTar(diffTar(dir))) names.push(header.name);
    expect(names).toEqual(['.wh.w\uDCFE']);
  });
});

describe('diffDigest', () => {
  it('is the sha256 and byte count of diffTar, and diffID its digest', async () => {
    await tree();
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of diffTar(dir)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const want = `sha256:${hash.digest('hex')}`;
    expect(size).toBeGreaterThan(4 * 1024 * 1024); // hashed on the hashing thread
    expect(await diffDigest(dir)).toEqual({ diffId: want, size });
    expect(await diffID(dir)).toBe(want);
    expect(size % 512).toBe(0);

    const small = createHash('sha256');
    let smallSize = 0;
    for await (const chunk of diffTar(join(dir, 'd0'))) {
      small.update(chunk as Buffer);
      smallSize += (chunk as Buffer).length;
    }
    expect(smallSize).toBeLessThan(4 * 1024 * 1024); // hashed in place
    expect(await diffDigest(join(dir, 'd0'))).toEqual({ diffId: `sha256:${small.digest('hex')}`, size: smallSize });
  });

  it('changes with a byte of a file and with an mtime, not with a re-run', async () => {
    await tree();
    const a = await diffID(dir);
    expect(await diffID(dir)).toBe(a);
    await writeFile(join(dir, 'd1', 'f3'), Buffer.alloc(30_000 + 3 * 13, 7));
    await utimes(join(dir, 'd1', 'f3'), 1_700_000_000, 1_700_000_000);
    const b = await diffID(dir);
    expect(b).not.toBe(a);
    await utimes(join(dir, 'd1', 'f3'), 1_700_000_001, 1_700_000_001);
    expect(await diffID(dir)).not.toBe(b);
  });
});
