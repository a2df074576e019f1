import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCAN_FIELDS, scanDir } from '../../../tarfs/index.js';
import { S_IFCHR, makedev, native } from '../../../native/index.js';
import { isCI, isRoot } from '../../../test/support/env.js';
import { makeTree, removeDir, tempDir } from '../file/testing.js';
import { EntryStat, STAMP_FIELDS } from './entry-stat.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('tsbuild-entry-stat-');
  await makeTree(dir, { 'file': 'data', 'old': 'o', 'sub/': '', 'link': { link: 'file' } });
  // Before the epoch (seconds round down, ns stay positive); Node's utimes takes no negative time.
  expect(spawnSync('touch', ['-d', '@-1.25', join(dir, 'old')]).status).toBe(0);
});
afterEach(async () => {
  await removeDir(dir);
});

describe.skipIf(!isRoot && !isCI)('EntryStat', () => {
  it('reads the same from a directory scan as from lstat', () => {
    native().mknod(join(dir, 'tty'), S_IFCHR | 0o620, makedev(136, 70000));
    const { names, fields } = scanDir(dir);
    expect(names).toEqual(['file', 'link', 'old', 'sub', 'tty']);
    for (let i = 0; i < names.length; i++) {
      const big = lstatSync(join(dir, names[i]!), { bigint: true });
      const scanned = new EntryStat(fields, i * SCAN_FIELDS);
      const of = EntryStat.of(big);
      for (const s of [scanned, of]) {
        expect({
          mode: s.mode,
          uid: s.uid,
          gid: s.gid,
          size: s.size,
          rdev: s.rdev,
          newestNs: s.newestNs,
          types: [s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.isFIFO(), s.isCharacterDevice(), s.isBlockDevice()],
        }).toEqual({
          mode: Number(big.mode),
          uid: Number(big.uid),
          gid: Number(big.gid),
          size: Number(big.size),
          rdev: String(big.rdev),
          newestNs: big.mtimeNs > big.ctimeNs ? big.mtimeNs : big.ctimeNs,
          types: [big.isFile(), big.isDirectory(), big.isSymbolicLink(), big.isFIFO(), big.isCharacterDevice(), big.isBlockDevice()],
        });
      }
      const stamp = new Float64Array(STAMP_FIELDS);
      of.copyStamp(stamp, 0);
      expect(scanned.sameStamp(stamp, 0)).toBe(true);
    }
    const old = EntryStat.of(lstatSync(join(dir, 'old'), { bigint: true }));
    const stamp = new Float64Array(STAMP_FIELDS);
    old.copyStamp(stamp, 0);
    expect([stamp[1], stamp[2]]).toEqual([-2, 750_000_000]);
  });

  it('tells files apart by size, times and inode', () => {
    const a = EntryStat.of(lstatSync(join(dir, 'file'), { bigint: true }));
    const stamp = new Float64Array(STAMP_FIELDS);
    a.copyStamp(stamp, 0);
    for (let k = 0; k < STAMP_FIELDS; k++) {
      const other = Float64Array.from(stamp);
      other[k]! += 1;
      expect(a.sameStamp(other, 0)).toBe(false);
    }
    expect(a.sameStamp(stamp, 0)).toBe(true);
  });
});
