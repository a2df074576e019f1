import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffDigest, diffID, diffTar } from './diff.js';
import { readTar } from './tar-reader.js';

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
