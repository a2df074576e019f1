import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffDigest, diffID, diffTar, followDiff } from './diff.js';
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
    expect(await diffDigest(dir)).toEqual({ diffId: want, size });
    expect(await diffID(dir)).toBe(want);
    expect(size % 512).toBe(0);
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

describe('followDiff', () => {
  /** An upper dir with `a/` above the directory `a/t` being filled, and a file beside. */
  async function upper(): Promise<string> {
    await mkdir(join(dir, 'a', 't'), { recursive: true });
    await writeFile(join(dir, 'a', 'z'), 'beside');
    await utimes(join(dir, 'a', 'z'), 1_700_000_000, 1_700_000_000);
    return 'a/t';
  }

  /** Fills `a/t` with names in the order given, reporting each; entries complete out of order. */
  async function fill(follower: ReturnType<typeof followDiff>, names: string[], report = names): Promise<void> {
    const target = join(dir, 'a', 't');
    await utimes(target, 1_600_000_000, 1_600_000_000); // its final times, set first
    const jobs = names.map(async (name, i) => {
      await new Promise((r) => setTimeout(r, (names.length - i) * 3));
      if (name.startsWith('d')) {
        await mkdir(join(target, name));
        await writeFile(join(target, name, 'inner'), Buffer.alloc(5000, i));
        await utimes(join(target, name), 1_650_000_000, 1_650_000_000);
      } else {
        await writeFile(join(target, name), Buffer.alloc(1000 * (i + 1), i));
      }
    });
    names.forEach((name, i) => {
      if (report.includes(name)) follower.entry(name, jobs[i]!);
    });
    await Promise.all(jobs);
    await utimes(target, 1_600_000_000, 1_600_000_000); // and again once its entries are made
  }

  it('gives what diffDigest gives once the directory is filled', async () => {
    const rel = await upper();
    const follower = followDiff(dir, rel);
    await fill(follower, ['b', 'd1', 'e', 'f']);
    follower.end(true);
    const result = await follower.result;
    expect(result).toEqual(await diffDigest(dir));
  });

  it('vouches for nothing after a failed or incomplete filling', async () => {
    const rel = await upper();
    const follower = followDiff(dir, rel);
    await fill(follower, ['b', 'c']);
    follower.end(false);
    expect(await follower.result).toBeUndefined();
  });

  it('vouches for nothing when the directory holds an entry it was not told of', async () => {
    const rel = await upper();
    const follower = followDiff(dir, rel);
    await fill(follower, ['b', 'c', 'd2'], ['b', 'd2']);
    follower.end(true);
    expect(await follower.result).toBeUndefined();
  });

  it('vouches for nothing when entries come out of name order', async () => {
    const rel = await upper();
    const follower = followDiff(dir, rel);
    await fill(follower, ['c', 'b']);
    follower.end(true);
    expect(await follower.result).toBeUndefined();
  });

  it('vouches for nothing when the directory’s own metadata changes after it was read', async () => {
    const rel = await upper();
    const follower = followDiff(dir, rel);
    await fill(follower, ['b']);
    await chmod(join(dir, 'a', 't'), 0o700);
    follower.end(true);
    expect(await follower.result).toBeUndefined();
  });

  it('vouches for nothing when the directory is not there', async () => {
    await upper();
    const follower = followDiff(dir, 'a/missing');
    follower.end(true);
    expect(await follower.result).toBeUndefined();
  });
});
