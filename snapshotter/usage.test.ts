import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rawPathIn, type PathPart } from '../test/support/raw-path.js';
import { diskUsage } from './usage.js';

describe('diskUsage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-usage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (...parts: PathPart[]): Buffer => rawPathIn(dir, ...parts);

  it('counts every inode once, names that are not UTF-8 included', async () => {
    writeFileSync(at('a'), 'a');
    mkdirSync(at('d', [0xfe]));
    writeFileSync(at('d', [0xfe], '/b', [0xff]), Buffer.alloc(64 * 1024, 1));
    linkSync(at('d', [0xfe], '/b', [0xff]), at('h', [0x80]));
    const usage = await diskUsage(dir);
    expect(usage.inodes).toBe(4); // dir, a, d\xfe, b\xff (h\x80 is the same inode)
    expect(usage.size).toBeGreaterThanOrEqual(64 * 1024);
  });
});
