import { lstatSync, utimesSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTree, removeDir, tempDir } from '../file/testing.js';
import { EntryStat } from './entry-stat.js';
import { StatCache } from './stat-cache.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await tempDir('tsbuild-stat-cache-');
  file = join(dir, 'cache');
  await makeTree(dir, { 'a/x': 'x', 'a/y': 'y', 'a/z': 'z', 'b/new\nline': 'n', 'b/ü': 'u' });
  // Old enough that the racy rule lets them be remembered.
  for (const p of ['a/x', 'a/y', 'a/z', 'b/new\nline', 'b/ü']) utimesSync(join(dir, p), 1_000_000, 1_000_000);
});
afterEach(async () => {
  await removeDir(dir);
});

const stat = (p: string): EntryStat => EntryStat.of(lstatSync(join(dir, p), { bigint: true }));
const NOW = BigInt(Date.now()) * 1_000_000n + 10n ** 12n; // ctimes are "now": a little later than that

describe('StatCache', () => {
  it('round-trips rows by directory and name, names with newlines and non-ASCII included', async () => {
    const cache = await StatCache.open(file, { racyWindowMs: 0 });
    for (const p of ['a/x', 'a/y', 'b/new\nline', 'b/ü']) cache.record(join(dir, p), stat(p), `hash of ${p}`, NOW);
    expect(cache.size).toBe(4);
    await cache.save();

    const again = await StatCache.open(file);
    expect(again.size).toBe(4);
    const a = again.dir(join(dir, 'a'));
    // Out of the recorded order too (the rows are then found by name).
    expect(a.lookup('y', stat('a/y'))).toBe('hash of a/y');
    expect(a.lookup('x', stat('a/x'))).toBe('hash of a/x');
    expect(a.lookup('z', stat('a/z'))).toBeUndefined();
    expect(again.lookup(join(dir, 'b/new\nline'), stat('b/new\nline'))).toBe('hash of b/new\nline');
    expect(again.lookup(join(dir, 'b/ü'), stat('b/ü'))).toBe('hash of b/ü');
    // Another file's metadata (size, times, inode) is not this file's.
    expect(a.lookup('x', stat('a/y'))).toBeUndefined();
  });

  it('misses a file whose metadata changed', async () => {
    const cache = await StatCache.open(file, { racyWindowMs: 0 });
    cache.record(join(dir, 'a/x'), stat('a/x'), 'h', NOW);
    utimesSync(join(dir, 'a/x'), 1_000_000, 1_000_001);
    expect(cache.lookup(join(dir, 'a/x'), stat('a/x'))).toBeUndefined();
  });

  it('forgets a file re-hashed within the racy window, and prunes', async () => {
    const cache = await StatCache.open(file);
    cache.record(join(dir, 'a/x'), stat('a/x'), 'h', NOW);
    cache.record(join(dir, 'a/y'), stat('a/y'), 'h', NOW);
    expect(cache.size).toBe(2);
    await writeFile(join(dir, 'a/x'), 'changed just now');
    cache.record(join(dir, 'a/x'), stat('a/x'), 'h2', BigInt(Date.now()) * 1_000_000n);
    expect(cache.size).toBe(1);
    expect(cache.lookup(join(dir, 'a/x'), stat('a/x'))).toBeUndefined();
    cache.prune((p) => !p.endsWith('/a/y'));
    expect(cache.size).toBe(0);
    await cache.save();
    expect((await StatCache.open(file)).size).toBe(0);
  });

  it('saves rows it never decoded as they were, beside changed ones', async () => {
    const first = await StatCache.open(file);
    for (const p of ['a/x', 'b/ü']) first.record(join(dir, p), stat(p), `hash of ${p}`, NOW);
    await first.save();
    const second = await StatCache.open(file);
    second.record(join(dir, 'a/y'), stat('a/y'), 'hash of a/y', NOW); // decodes a/, not b/
    await second.save();
    const third = await StatCache.open(file);
    expect(third.size).toBe(3);
    expect(third.lookup(join(dir, 'b/ü'), stat('b/ü'))).toBe('hash of b/ü');
    expect(third.lookup(join(dir, 'a/x'), stat('a/x'))).toBe('hash of a/x');
    expect(third.lookup(join(dir, 'a/y'), stat('a/y'))).toBe('hash of a/y');
  });

  it('does not write an unchanged cache', async () => {
    const first = await StatCache.open(file);
    first.record(join(dir, 'a/x'), stat('a/x'), 'h', NOW);
    await first.save();
    const { ino, mtimeMs } = lstatSync(file);
    const second = await StatCache.open(file);
    expect(second.lookup(join(dir, 'a/x'), stat('a/x'))).toBe('h');
    await second.save();
    expect(lstatSync(file)).toMatchObject({ ino, mtimeMs });
  });

  it('starts empty from a file of the JSON format before, or a damaged one', async () => {
    const first = await StatCache.open(file);
    first.record(join(dir, 'a/x'), stat('a/x'), 'h', NOW);
    first.record(join(dir, 'b/ü'), stat('b/ü'), 'h', NOW);
    await first.save();
    const good = await readFile(file);

    const damaged: Buffer[] = [
      Buffer.from(JSON.stringify({ format: 'tsbuild-stat-cache/2', entries: { [join(dir, 'a/x')]: ['1', '2', '3', '4', 'h'] } })),
      Buffer.from('not a cache'),
      Buffer.alloc(0),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from('x')]),
    ];
    const flipped = Buffer.from(good);
    flipped.writeDoubleBE(flipped.readDoubleLE(24), 24); // the byte order mark, as another machine would write it
    damaged.push(flipped);
    for (const bytes of damaged) {
      await writeFile(file, bytes);
      const cache = await StatCache.open(file);
      expect(cache.size).toBe(0);
      expect(cache.lookup(join(dir, 'a/x'), stat('a/x'))).toBeUndefined();
    }
  });
});

describe('StatCache with two walks at once', () => {
  it('keeps the changes both make to one directory', async () => {
    const first = await StatCache.open(file);
    first.record(join(dir, 'a/x'), stat('a/x'), 'hash of a/x', NOW);
    await first.save();

    const cache = await StatCache.open(file);
    const one = cache.dir(join(dir, 'a'));
    const two = cache.dir(join(dir, 'a'));
    expect(one.lookup('x', stat('a/x'))).toBe('hash of a/x');
    expect(two.lookup('x', stat('a/x'))).toBe('hash of a/x');
    one.record('y', stat('a/y'), 'hash of a/y', NOW);
    two.record('z', stat('a/z'), 'hash of a/z', NOW);
    await writeFile(join(dir, 'a/x'), 'changed just now');
    two.record('x', stat('a/x'), 'new hash of a/x', BigInt(Date.now()) * 1_000_000n); // racy: forgotten
    await cache.save();

    const again = await StatCache.open(file);
    expect(again.size).toBe(2);
    expect(again.lookup(join(dir, 'a/y'), stat('a/y'))).toBe('hash of a/y');
    expect(again.lookup(join(dir, 'a/z'), stat('a/z'))).toBe('hash of a/z');
  });
});
