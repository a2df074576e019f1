import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, lutimes, mkdtemp, rm, symlink, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileMatcher, parseIgnoreFile } from '../../../patternmatcher/index.js';
import { makeTree, removeDir, setOwner, tempDir } from '../file/testing.js';
import { checksumPaths, checksumPathsAndTimes, type ChecksumOptions } from './checksum.js';
import { blake3File, type FileHasher } from './hash-file.js';
import { StatCache } from './stat-cache.js';
import { walkContext } from './walk.js';

let ctx: string;
beforeEach(async () => {
  ctx = await tempDir('tsbuild-ctx-');
  await makeTree(ctx, {
    'src/main.ts': 'main',
    'src/lib/util.ts': 'util',
    'src/link': { link: 'main.ts' },
    'package.json': '{}',
    'README.md': 'readme',
    'logs/a.log': 'log',
  });
});
afterEach(async () => {
  await removeDir(ctx);
});

const base: ChecksumOptions = { followLinks: true };
const sum = (selectors: string[], opts: Partial<ChecksumOptions> = {}): Promise<string> => checksumPaths(ctx, selectors, { ...base, ...opts });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function countingHasher(): { hasher: FileHasher; calls: string[] } {
  const calls: string[] = [];
  return { calls, hasher: async (p) => (calls.push(p), blake3File(p)) };
}

describe('checksumPaths', () => {
  it('is a blake3 digest, stable across runs', async () => {
    const a = await sum(['src', '*.json']);
    expect(a).toMatch(/^blake3:[0-9a-f]{64}$/);
    expect(await sum(['src', '*.json'])).toBe(a);
  });

  it('ignores unrelated files', async () => {
    const before = await sum(['src']);
    await writeFile(join(ctx, 'README.md'), 'changed');
    await writeFile(join(ctx, 'new-file'), 'new');
    await mkdir(join(ctx, 'srcx'));
    expect(await sum(['src'])).toBe(before);
  });

  it('changes with a selected file’s content, mode, name, a symlink target, a new file', async () => {
    const seen = new Set([await sum(['src'])]);
    const step = async (change: () => Promise<void>): Promise<void> => {
      await change();
      const now = await sum(['src']);
      expect(seen.has(now)).toBe(false);
      seen.add(now);
    };
    await step(() => writeFile(join(ctx, 'src/main.ts'), 'main2'));
    await step(() => chmod(join(ctx, 'src/main.ts'), 0o755));
    await step(async () => {
      await rm(join(ctx, 'src/link'));
      await symlink('lib/util.ts', join(ctx, 'src/link'));
    });
    await step(() => writeFile(join(ctx, 'src/lib/new.ts'), ''));
    await step(() => chmod(join(ctx, 'src/lib'), 0o700));
  });

  it('leaves owners out unless asked (the context’s owners never reach the image)', async () => {
    const without = await sum(['src']);
    const withOwners = await sum(['src'], { includeOwnership: true });
    await setOwner(join(ctx, 'src/main.ts'), 4321, 4321);
    expect(await sum(['src'])).toBe(without);
    expect(await sum(['src'], { includeOwnership: true })).not.toBe(withOwners);
  });

  it('leaves out .dockerignore’d files, and fails when a selector names one', async () => {
    const matcher = compileMatcher(parseIgnoreFile('*.md\nlogs\n', '.dockerignore'));
    const before = await sum(['.'], { matcher });
    await writeFile(join(ctx, 'README.md'), 'changed');
    await writeFile(join(ctx, 'logs/b.log'), 'more');
    expect(await sum(['.'], { matcher })).toBe(before);
    await expect(sum(['README.md'], { matcher })).rejects.toMatchObject({
      code: 'COPY_FAILED',
      message: 'failed to compute cache key: failed to calculate checksum: "/README.md": not found',
    });
  });

  it('respects --exclude relative to the source', async () => {
    const before = await sum(['src'], { exclude: ['lib'] });
    await writeFile(join(ctx, 'src/lib/util.ts'), 'changed');
    expect(await sum(['src'], { exclude: ['lib'] })).toBe(before);
  });

  it('expands wildcards; a pattern that matches nothing is empty, a missing path an error', async () => {
    const a = await sum(['*.json']);
    await writeFile(join(ctx, 'other.json'), '{}');
    expect(await sum(['*.json'])).not.toBe(a);
    await expect(sum(['nomatch*'])).resolves.toMatch(/^blake3:/);
    await expect(sum(['missing'])).rejects.toMatchObject({ message: expect.stringContaining('"/missing": not found') });
  });

  it('follows a selected symlink when told (as COPY does), else hashes the link', async () => {
    await symlink('src/main.ts', join(ctx, 'top'));
    const followed = await sum(['top']);
    const notFollowed = await sum(['top'], { followLinks: false });
    await writeFile(join(ctx, 'src/main.ts'), 'changed behind the link');
    expect(await sum(['top'])).not.toBe(followed);
    expect(await sum(['top'], { followLinks: false })).toBe(notFollowed);
  });

  it('changes with an extended attribute of a selected file when told to read them', async () => {
    const { fileXattrs } = await import('../../../snapshotter/index.js');
    // /var/tmp, not /tmp: tmpfs may refuse user.* attributes.
    const dir = await mkdtemp('/var/tmp/tsbuild-ctx-xattr-');
    try {
      await writeFile(join(dir, 'f'), 'same');
      const xsum = () => checksumPaths(dir, ['f'], { followLinks: true, xattrs: fileXattrs });
      const plain = await xsum();
      await fileXattrs.set(join(dir, 'f'), 'user.k', Buffer.from('1'));
      const one = await xsum();
      await fileXattrs.set(join(dir, 'f'), 'user.k', Buffer.from('2'));
      const two = await xsum();
      expect(new Set([plain, one, two]).size).toBe(3);
      expect(await checksumPaths(dir, ['f'], { followLinks: true })).toBe(plain);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the selector order in the digest (a later source overwrites an earlier one)', async () => {
    expect(await sum(['README.md', 'package.json'])).not.toBe(await sum(['package.json', 'README.md']));
  });
});

describe('checksumPaths with names that are not UTF-8', () => {
  const named = (...bytes: number[]): Buffer => Buffer.concat([Buffer.from(`${ctx}/src/`), Buffer.from(bytes)]);

  it('hashes such a name by its bytes: unlike other bytes, unlike U+FFFD, like itself', async () => {
    const sums: string[] = [];
    for (const name of [[0x62, 0xff], [0x62, 0xfe], [...Buffer.from('b\uFFFD')]]) {
      writeFileSync(named(...name), 'same');
      sums.push(await sum(['src']));
      expect(await sum(['src'])).toBe(sums[sums.length - 1]);
      rmSync(named(...name));
    }
    expect(new Set(sums).size).toBe(3);
    expect(sums).not.toContain(await sum(['src']));
  });

  it('hashes the content of such files and directories, and symlink targets by their bytes', async () => {
    mkdirSync(named(0x64, 0xfe));
    writeFileSync(Buffer.concat([named(0x64, 0xfe), Buffer.from('/f')]), 'one');
    const before = await sum(['src']);
    writeFileSync(Buffer.concat([named(0x64, 0xfe), Buffer.from('/f')]), 'two');
    const after = await sum(['src']);
    expect(after).not.toBe(before);
    // A selector that reaches it through a wildcard, and one below it.
    expect(await sum(['src/d?'])).toBe(await sum(['src/d?']));
    expect(await sum(['src/d?/f'])).not.toBe(await sum(['src/d?']));
    symlinkSync(Buffer.from([0x74, 0xff]), named(0x6c));
    const ff = await sum(['src']);
    rmSync(named(0x6c));
    symlinkSync(Buffer.from([0x74, 0xfe]), named(0x6c));
    expect(await sum(['src'])).not.toBe(ff);
  });

  it('remembers such files in the stat cache, saved and reloaded', async () => {
    writeFileSync(named(0x62, 0xff), 'raw');
    await sleep(150); // past the racy window
    const file = join(ctx, '..', `stat-cache-bytes-${Date.now()}`);
    try {
      const cache = await StatCache.open(file);
      const a = await sum(['src'], { statCache: cache });
      await cache.save();
      const counted = countingHasher();
      expect(await sum(['src'], { statCache: await StatCache.open(file), hashFile: counted.hasher })).toBe(a);
      expect(counted.calls).toEqual([]);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe('StatCache', () => {
  it('skips hashing unchanged files, re-hashes changed ones, and survives a reload', async () => {
    await sleep(150); // past the racy window: files just written are never trusted
    const file = join(ctx, '..', `stat-cache-${Date.now()}.json`);
    try {
      const first = countingHasher();
      const cache = await StatCache.open(file);
      const a = await sum(['src'], { statCache: cache, hashFile: first.hasher });
      expect(first.calls.length).toBe(2);
      await cache.save();

      const second = countingHasher();
      const reloaded = await StatCache.open(file);
      expect(reloaded.size).toBe(2);
      expect(await sum(['src'], { statCache: reloaded, hashFile: second.hasher })).toBe(a);
      expect(second.calls).toEqual([]);

      await writeFile(join(ctx, 'src/main.ts'), 'edited');
      const third = countingHasher();
      const b = await sum(['src'], { statCache: reloaded, hashFile: third.hasher });
      expect(b).not.toBe(a);
      expect(third.calls).toEqual([join(ctx, 'src/main.ts')]);
    } finally {
      await rm(file, { force: true });
    }
  });

  it('does not remember a file modified just before it was hashed', async () => {
    const file = join(ctx, '..', `stat-cache-racy-${Date.now()}.json`);
    const cache = await StatCache.open(file, { racyWindowMs: 60_000 });
    await sum(['src'], { statCache: cache });
    expect(cache.size).toBe(0);
  });
});

describe('checksumPathsAndTimes', () => {
  it('gives the checksum, and a digest of the times that only times change, with or without the stat cache', async () => {
    await sleep(150); // past the racy window, so that the stat cache answers the second time
    const file = join(ctx, '..', `stat-cache-times-${Date.now()}.json`);
    try {
      const cache = await StatCache.open(file);
      const first = await checksumPathsAndTimes(ctx, ['src'], { ...base, statCache: cache });
      expect(first.sum).toBe(await sum(['src']));
      expect(first.mtimes).toMatch(/^blake3:[0-9a-f]{64}$/);
      expect(await checksumPathsAndTimes(ctx, ['src'], { ...base, statCache: cache })).toEqual(first);
      expect(await checksumPathsAndTimes(ctx, ['src'], base)).toEqual(first);
      const seen = new Set([first.mtimes]);
      const step = async (change: () => Promise<void>): Promise<void> => {
        await change();
        const now = await checksumPathsAndTimes(ctx, ['src'], base);
        expect(await checksumPathsAndTimes(ctx, ['src'], { ...base, statCache: cache })).toEqual(now);
        expect(now.sum).toBe(first.sum);
        expect(seen.has(now.mtimes)).toBe(false);
        seen.add(now.mtimes);
      };
      await step(() => utimes(join(ctx, 'src/main.ts'), 1_000_000, 1_000_000));
      await step(() => utimes(join(ctx, 'src/lib'), 2_000_000, 2_000_000));
      await step(() => lutimes(join(ctx, 'src/link'), 3_000_000, 3_000_000));
      // The selected directory's own time.
      await step(() => utimes(join(ctx, 'src'), 4_000_000, 4_000_000));
      // A file outside the selection changes nothing.
      const now = await checksumPathsAndTimes(ctx, ['src'], base);
      await utimes(join(ctx, 'README.md'), 5_000_000, 5_000_000);
      expect(await checksumPathsAndTimes(ctx, ['src'], base)).toEqual(now);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe('walkContext', () => {
  it('yields included paths in byte order, skipping excluded subtrees, keeping parents of exceptions', async () => {
    await makeTree(ctx, { 'logs/keep/important.log': 'k' });
    const matcher = compileMatcher(parseIgnoreFile('logs\n!logs/keep/important.log\n*.md\n', '.dockerignore'));
    const paths: string[] = [];
    for await (const e of walkContext(ctx, matcher)) paths.push(e.path);
    expect(paths).toEqual([
      'logs',
      'logs/keep',
      'logs/keep/important.log',
      'package.json',
      'src',
      'src/lib',
      'src/lib/util.ts',
      'src/link',
      'src/main.ts',
    ]);
  });
});

describe('checksumPaths property', () => {
  it('is the same for the same tree however it was created', async () => {
    const name = fc.stringMatching(/^[a-z]{1,4}$/);
    const files = fc.uniqueArray(fc.tuple(fc.array(name, { minLength: 1, maxLength: 3 }), fc.string({ maxLength: 8 }), fc.boolean()), {
      maxLength: 8,
      selector: ([p]) => p.join('/'),
    });
    await fc.assert(
      fc.asyncProperty(files, fc.infiniteStream(fc.nat()), async (entries, seeds) => {
        // Keep only trees where no file path is a prefix directory of another.
        const paths = entries.map(([p]) => p.join('/'));
        const ok = entries.filter(([p]) => !paths.some((q) => q.startsWith(p.join('/') + '/')));
        const build = async (order: typeof ok): Promise<string> => {
          const dir = await tempDir('tsbuild-prop-');
          try {
            await mkdir(join(dir, 'root'));
            for (const [p, data, exec] of order) {
              await mkdir(join(dir, 'root', ...p.slice(0, -1)), { recursive: true });
              await writeFile(join(dir, 'root', ...p), data);
              await chmod(join(dir, 'root', ...p), exec ? 0o755 : 0o644);
            }
            return await checksumPaths(dir, ['root'], { followLinks: true });
          } finally {
            await removeDir(dir);
          }
        };
        const shuffled = [...ok];
        const it = seeds[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        expect(await build(shuffled)).toBe(await build(ok));
      }),
      { numRuns: 40 },
    );
  });
});
