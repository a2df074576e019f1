// tsbuild prune --keep-storage: keeps up to SIZE of build cache, removing what builds used
// least recently first, and says what it freed; tsbuild du shows the effect. Real builds,
// real snapshots.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-prune-'));
const root = join(work, 'root');
const MiB = 1024 * 1024;
let n = 0;

/** A step writing `mib` MiB of random bytes to /NAME, built without a name (cache only); the digest of the bytes it left, and whether the step came from the cache. */
function build(name: string, mib: number): { bytes: string; cached: boolean } {
  const dir = writeContext(join(work, name), { Dockerfile: `FROM busybox:prune\nRUN head -c ${mib * MiB} /dev/urandom > /${name}\n` });
  const dest = join(work, `out-${++n}`);
  const r = tsbuildSync(['build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${dest}`, dir]);
  expectOk(r);
  const bytes = createHash('sha256').update(readFileSync(join(dest, name))).digest('hex');
  return { bytes, cached: /^#(\d+) \[2\/2\] RUN .*\n#\1 CACHED$/m.test(r.stderr) };
}

/** `tsbuild du`'s build cache line: all snapshots, and the part no image uses. */
function du(): { count: number; reclaimable: string } {
  const r = tsbuildSync(['du', '--root', root]);
  expect(r.status, r.stderr).toBe(0);
  const m = /^build cache\s+\S+ in (\d+) snapshots \((\S+) reclaimable\)$/m.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return { count: Number(m![1]), reclaimable: m![2]! };
}

describe.skipIf(!isRoot && !isCI)('tsbuild prune --keep-storage', () => {
  beforeAll(async () => {
    expectOk(tsbuildSync(['build', '--root', root, '--progress', 'quiet', '-t', 'busybox:prune', await busyboxBaseContext(join(work, 'base'))]));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('keeps up to SIZE of build cache, the least recently used going first', () => {
    const a = build('a', 3);
    const b = build('b', 2);
    const c = build('c', 1);
    // a is used again, so b is now the least recently used.
    expect(build('a', 3)).toMatchObject({ bytes: a.bytes, cached: true });
    const before = du();

    // 6 MiB of cache (and a little more) under a 5 MiB limit ("5MB" is 5 MiB, as with docker):
    // b alone has to go.
    const pruned = tsbuildSync(['prune', '--root', root, '--keep-storage', '5MB']);
    expect(pruned.status, pruned.stderr).toBe(0);
    const freed = /^Total reclaimed: (\d+(?:\.\d+)?)MB \(\d+ blobs, 1 cache snapshots\)$/m.exec(pruned.stdout);
    expect(freed, pruned.stdout).not.toBeNull();
    expect(Number(freed![1])).toBeGreaterThanOrEqual(2 * MiB / 1e6);
    const after = du();
    expect(after.count).toBe(before.count - 1);
    expect(after.reclaimable).toMatch(/^4\.\d+MB$/);

    // a and c come from the cache, b is made again.
    expect(build('a', 3)).toMatchObject({ bytes: a.bytes, cached: true });
    expect(build('c', 1)).toMatchObject({ bytes: c.bytes, cached: true });
    const again = build('b', 2);
    expect(again.cached).toBe(false);
    expect(again.bytes).not.toBe(b.bytes);

    // A limit above what there is removes nothing; no limit removes all the build cache, and
    // never what an image uses.
    expect(tsbuildSync(['prune', '--root', root, '--keep-storage', '1GB']).stdout).toContain('0 cache snapshots');
    expect(tsbuildSync(['prune', '--root', root]).status).toBe(0);
    expect(du()).toEqual({ count: 1, reclaimable: '0B' });
    expect(build('c', 1).cached).toBe(false);
  });

  it('refuses a size docker would not read', () => {
    const r = tsbuildSync(['prune', '--root', root, '--keep-storage', '5XB']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("invalid size for --keep-storage: '5XB'");
  });
});
