// The per-path digests kept beside a COPY's checksum: what a later miss names the files by.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTree, removeDir, tempDir } from '../file/testing.js';
import { checksumPaths } from './checksum.js';
import { EntryDigests } from './entry-digests.js';
import { StatCache } from './stat-cache.js';

let ctx: string;
beforeEach(async () => {
  ctx = await tempDir('tsbuild-entries-');
  await makeTree(ctx, { 'src/main.ts': 'main', 'src/lib/util.ts': 'util', 'src/link': { link: 'main.ts' }, 'package.json': '{}' });
});
afterEach(async () => {
  await removeDir(ctx);
});

async function digests(selectors: string[], cap?: number, statCache?: StatCache) {
  const entries = new EntryDigests(cap);
  const sum = await checksumPaths(ctx, selectors, { followLinks: true, entries, ...(statCache === undefined ? {} : { statCache }) });
  return entries.result(sum);
}

describe('EntryDigests', () => {
  it('keeps a digest per selected path, named under its source, and the sum shortened', async () => {
    const d = await digests(['src', 'package.json']);
    expect(Object.keys(d.paths!).sort()).toEqual(['package.json', 'src', 'src/lib', 'src/lib/util.ts', 'src/link', 'src/main.ts']);
    expect(d.count).toBe(6);
    expect(d.sum).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a changed file changes its digest alone, whether the stat cache knows the others or not', async () => {
    const cacheDir = await tempDir('tsbuild-entries-cache-');
    const cache = await StatCache.open(join(cacheDir, 'cache'));
    const before = await digests(['src'], undefined, cache);
    await writeFile(join(ctx, 'src/lib/util.ts'), 'util 2');
    const after = await digests(['src'], undefined, cache);
    const changed = Object.keys(after.paths!).filter((p) => after.paths![p] !== before.paths![p]);
    expect(changed).toEqual(['src/lib/util.ts']);
    expect(after.sum).not.toBe(before.sum);
    await removeDir(cacheDir);
  });

  it('past its cap keeps the count and the sum only', async () => {
    const d = await digests(['src', 'package.json'], 3);
    expect(d).toEqual({ count: 6, sum: expect.stringMatching(/^[0-9a-f]{16}$/) as string });
  });
});
