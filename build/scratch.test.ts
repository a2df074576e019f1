import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeScratch, scratchDirFor, sweepStaleScratch } from './scratch.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-scratch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has ended. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('scratch directories', () => {
  it('names one per process, by its pid', () => {
    const a = scratchDirFor(dir);
    expect(a.startsWith(join(dir, `${process.pid}-`))).toBe(true);
    expect(scratchDirFor(dir)).not.toBe(a);
  });

  it('sweeps those of processes that are gone, and only those', async () => {
    const gone = join(dir, `${deadPid()}-0a1b2c3d`);
    const mine = join(dir, `${process.pid}-0a1b2c3d`);
    const other = join(dir, 'mnt-not-a-scratch-dir');
    for (const d of [gone, mine, other]) mkdirSync(join(d, 'inner'), { recursive: true });
    await sweepStaleScratch(dir);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(other)).toBe(true);
    await removeScratch(mine);
    expect(existsSync(mine)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('never deletes through a mount below it', async () => {
    const gone = join(dir, `${deadPid()}-0badf00d`);
    const mnt = join(gone, 'mnt');
    mkdirSync(mnt, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', 'none', mnt]).status).toBe(0);
    try {
      writeFileSync(join(mnt, 'kept'), 'x');
      await sweepStaleScratch(dir);
      await removeScratch(gone);
      expect(existsSync(join(mnt, 'kept'))).toBe(true);
    } finally {
      spawnSync('umount', ['-l', mnt]);
    }
    await sweepStaleScratch(dir);
    expect(existsSync(gone)).toBe(false);
  });
});
