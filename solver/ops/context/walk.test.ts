import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileMatcher, parseIgnoreFile } from '../../../patternmatcher/index.js';
import { rawPathIn } from '../../../test/support/raw-path.js';
import { compilePatterns } from '../file/patterns.js';
import { walkContext, walkTree, type WalkEntry } from './walk.js';

const top = mkdtempSync(join(tmpdir(), 'tsbuild-walk-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));


const split = (ns: bigint): [number, number] => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

async function all(entries: AsyncIterable<WalkEntry>): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  for await (const e of entries) out.push(e);
  return out;
}

describe('walkContext with names that are not UTF-8', () => {
  const ctx = join(top, 'ctx');
  mkdirSync(ctx);
  writeFileSync(rawPathIn(ctx, 'a'), 'a');
  writeFileSync(rawPathIn(ctx, 'b', [0xff]), 'raw');
  writeFileSync(rawPathIn(ctx, 'b\uFFFD'), 'literal');
  mkdirSync(rawPathIn(ctx, 'd', [0xfe]));
  writeFileSync(rawPathIn(ctx, 'd', [0xfe], '/inside'), 'in');
  writeFileSync(rawPathIn(ctx, 'd', [0xfe], '/x', [0x80], 'y'), 'xy');
  writeFileSync(rawPathIn(ctx, 'z'), 'z');

  it('yields them byte-escaped, in byte order, with their own stats', async () => {
    const entries = await all(walkContext(ctx));
    expect(entries.map((e) => e.path)).toEqual(['a', 'b\uFFFD', 'b\uDCFF', 'd\uDCFE', 'd\uDCFE/inside', 'd\uDCFE/x\uDC80y', 'z']);
    const raw = entries.find((e) => e.path === 'b\uDCFF')!;
    const want = lstatSync(rawPathIn(ctx, 'b', [0xff]), { bigint: true });
    expect([raw.stats.size, raw.stats.mode]).toEqual([3, Number(want.mode)]);
    expect(raw.stats.sameStamp(new Float64Array([3, ...split(want.mtimeNs), ...split(want.ctimeNs), Number(want.ino >> 32n), Number(want.ino & 0xffffffffn)]), 0)).toBe(true);
    expect(raw.name).toBe('b\uDCFF');
    const deep = entries.find((e) => e.path === 'd\uDCFE/x\uDC80y')!;
    expect([deep.dir, deep.name, deep.stats.size]).toEqual([`${ctx}/d\uDCFE`, 'x\uDC80y', 2]);
    expect(deep.stats.isFile()).toBe(true);
  });

  it('starts below such a directory, and matches patterns against them a byte as one character', async () => {
    expect((await all(walkTree(ctx, 'd\uDCFE', {}))).map((e) => e.sub)).toEqual(['', 'inside', 'x\uDC80y']);
    // `?` takes the byte, as Go's matchers take it for one rune; U+FFFD in a pattern is only U+FFFD.
    const ignore = compileMatcher(parseIgnoreFile('b\uFFFD\nd?/x?y\n', '.dockerignore'));
    expect((await all(walkContext(ctx, ignore))).map((e) => e.path)).toEqual(['a', 'b\uDCFF', 'd\uDCFE', 'd\uDCFE/inside', 'z']);
    const exclude = compilePatterns(['b?'], '--exclude');
    expect((await all(walkTree(ctx, '', { exclude }))).map((e) => e.path)).toEqual(['a', 'd\uDCFE', 'd\uDCFE/inside', 'd\uDCFE/x\uDC80y', 'z']);
  });
});
