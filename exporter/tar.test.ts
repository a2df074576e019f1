import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isExporterError } from './errors.js';
import { layoutEntry } from './oci-layout.js';
import { writeTarFile } from './tar.js';
import { mustRun } from './testing.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-tar-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeTarFile', () => {
  it('writes entries GNU tar reads, bodies from chunks', async () => {
    const dest = join(dir, 'out.tar');
    await writeTarFile(dest, async (w) => {
      await w.add(layoutEntry('blobs'));
      await w.addStream(layoutEntry('blobs/f', 6), [Buffer.from('abc'), Buffer.from('def')]);
      await w.addBytes(layoutEntry('index.json', 2), Buffer.from('{}'));
    });
    // Mode, owner, size and name of each entry (the time, printed in the local zone, aside).
    const listed = (await mustRun('tar', ['--numeric-owner', '-tvf', dest])).trim().split('\n').map((l) => {
      const f = l.split(/\s+/);
      return [...f.slice(0, 3), f.at(-1)].join(' ');
    });
    expect(listed).toEqual([
      'drwxr-xr-x 0/0 0 blobs/',
      '-rw-r--r-- 0/0 6 blobs/f',
      '-rw-r--r-- 0/0 2 index.json',
    ]);
    expect(await mustRun('tar', ['-xOf', dest, 'blobs/f'])).toBe('abcdef');
  });

  it('refuses a body of another size than its header says, and leaves nothing behind', async () => {
    for (const body of [[Buffer.from('abc')], [Buffer.from('abcdefg')]]) {
      const dest = join(dir, 'bad.tar');
      await expect(writeTarFile(dest, (w) => w.addStream(layoutEntry('f', 6), body))).rejects.toSatisfy((e) => isExporterError(e, 'BAD_IMAGE'));
      expect(existsSync(dest)).toBe(false);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
