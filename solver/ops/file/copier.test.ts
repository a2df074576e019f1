// The copier with names that are not UTF-8: every entry keeps its exact bytes, whatever the
// copy does to it (contents, modes, times, owners, xattrs, hard links, symlink targets).
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, lchown, lutimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileMatcher, parseIgnoreFile } from '../../../patternmatcher/index.js';
import { parseChmod } from '../../../frontend/instructions/index.js';
import { S_IFCHR, S_IFIFO, makedev, native } from '../../../native/index.js';
import { fileXattrs } from '../../../snapshotter/index.js';
import { isCI, isRoot } from '../../../test/support/env.js';
import { rawPathIn } from '../../../test/support/raw-path.js';
import { copy, type CopyOptions } from './copy.js';

let ctx: string;
let dest: string;
beforeEach(() => {
  // /var/tmp, not /tmp: tmpfs may refuse user.* attributes.
  ctx = mkdtempSync('/var/tmp/tsbuild-copier-ctx-');
  dest = mkdtempSync('/var/tmp/tsbuild-copier-dest-');
});
afterEach(() => {
  rmSync(ctx, { recursive: true, force: true });
  rmSync(dest, { recursive: true, force: true });
});

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const list = (dir: Buffer): Buffer[] => readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);

function opts(sources: string[], destPath: string, extra: Partial<CopyOptions> = {}): CopyOptions {
  return { destRoot: dest, dest: destPath, workdir: '/', source: { root: ctx, ownership: 'reset' }, sources, ...extra };
}

describe('copy with names that are not UTF-8', () => {
  it('copies files, directories, symlinks and hard links with their exact names, contents, modes and times', async () => {
    writeFileSync(rawPathIn(ctx, 'b', [0xff]), 'raw');
    await chmod(rawPathIn(ctx, 'b', [0xff]), 0o640);
    writeFileSync(rawPathIn(ctx, 'b\uFFFD'), 'literal');
    mkdirSync(rawPathIn(ctx, 'd', [0xfe]));
    writeFileSync(rawPathIn(ctx, 'd', [0xfe], '/inside'), 'in');
    linkSync(rawPathIn(ctx, 'b', [0xff]), rawPathIn(ctx, 'd', [0xfe], '/h', [0x80]));
    symlinkSync(bytes('../t\xff'), rawPathIn(ctx, 'd', [0xfe], '/l'));
    await lutimes(rawPathIn(ctx, 'd', [0xfe], '/inside'), 1_000_000_000, 1_000_000_000);
    await lutimes(rawPathIn(ctx, 'd', [0xfe]), 1_100_000_000, 1_100_000_000);

    await copy(opts(['.'], '/app'));

    const app = Buffer.from(join(dest, 'app'));
    expect(list(app)).toEqual([bytes('b\xef\xbf\xbd'), bytes('b\xff'), bytes('d\xfe')]);
    expect(list(rawPathIn(dest, 'app/d', [0xfe]))).toEqual([bytes('h\x80'), bytes('inside'), bytes('l')]);
    expect(readFileSync(rawPathIn(dest, 'app/b', [0xff]), 'utf8')).toBe('raw');
    expect(readFileSync(rawPathIn(dest, 'app/b\uFFFD'), 'utf8')).toBe('literal');
    expect(lstatSync(rawPathIn(dest, 'app/b', [0xff])).mode & 0o7777).toBe(0o640);
    expect(lstatSync(rawPathIn(dest, 'app/d', [0xfe], '/inside')).mtimeMs).toBe(1_000_000_000_000);
    expect(lstatSync(rawPathIn(dest, 'app/d', [0xfe])).mtimeMs).toBe(1_100_000_000_000);
    expect(lstatSync(rawPathIn(dest, 'app/d', [0xfe], '/h', [0x80])).ino).toBe(lstatSync(rawPathIn(dest, 'app/b', [0xff])).ino);
    expect(readlinkSync(rawPathIn(dest, 'app/d', [0xfe], '/l'), { encoding: 'buffer' })).toEqual(bytes('../t\xff'));
  });

  it('expands wildcards and applies --exclude, .dockerignore and --parents on them, a byte as one character', async () => {
    writeFileSync(rawPathIn(ctx, 'b', [0xff]), 'ff');
    writeFileSync(rawPathIn(ctx, 'b', [0xfe]), 'fe');
    writeFileSync(rawPathIn(ctx, 'b\uFFFD'), 'literal');
    writeFileSync(rawPathIn(ctx, 'bc'), 'c');
    mkdirSync(rawPathIn(ctx, 'd', [0xfe]));
    writeFileSync(rawPathIn(ctx, 'd', [0xfe], '/keep'), 'k');
    writeFileSync(rawPathIn(ctx, 'd', [0xfe], '/drop', [0x80]), 'd');

    // `?` matches a byte that is not UTF-8; U+FFFD in a pattern matches only U+FFFD.
    await copy(opts(['b?'], '/w/'));
    expect(list(rawPathIn(dest, 'w'))).toEqual([bytes('bc'), bytes('b\xef\xbf\xbd'), bytes('b\xfe'), bytes('b\xff')]);
    await copy(opts(['.'], '/e/', { exclude: ['*\uFFFD', 'b[c]', 'd?/drop?'] }));
    expect(list(rawPathIn(dest, 'e'))).toEqual([bytes('b\xfe'), bytes('b\xff'), bytes('d\xfe')]);
    expect(list(rawPathIn(dest, 'e/d', [0xfe]))).toEqual([bytes('keep')]);

    const ignore = compileMatcher(parseIgnoreFile('d?/drop?\n', '.dockerignore'));
    await copy(opts(['d*'], '/i/', { source: { root: ctx, ownership: 'reset', ignore } }));
    expect(list(rawPathIn(dest, 'i'))).toEqual([bytes('keep')]);

    await copy(opts(['d?/keep'], '/p/', { parents: true }));
    expect(readFileSync(rawPathIn(dest, 'p/d', [0xfe], '/keep'), 'utf8')).toBe('k');
  });

  it.skipIf(!isRoot && !isCI)('makes FIFOs and device nodes of the same kind under such names', async () => {
    native().mknod(rawPathIn(ctx, 'p', [0xff]), S_IFIFO | 0o640, 0);
    native().mknod(rawPathIn(ctx, 'c', [0xfe]), S_IFCHR | 0o600, makedev(1, 3));
    await copy(opts(['.'], '/n/'));
    const fifo = lstatSync(rawPathIn(dest, 'n/p', [0xff]));
    expect([fifo.isFIFO(), fifo.mode & 0o7777]).toEqual([true, 0o640]);
    const chr = lstatSync(rawPathIn(dest, 'n/c', [0xfe]));
    expect([chr.isCharacterDevice(), chr.rdev, chr.mode & 0o7777]).toEqual([true, makedev(1, 3), 0o600]);
  });

  it.skipIf(!isRoot && !isCI)('chowns, chmods and copies the xattrs of such entries', async () => {
    mkdirSync(rawPathIn(ctx, 'd', [0xfe]));
    writeFileSync(rawPathIn(ctx, 'd', [0xfe], '/f', [0x80]), 'x');
    await lchown(rawPathIn(ctx, 'd', [0xfe], '/f', [0x80]), 1234, 5678);
    await fileXattrs.set(`${ctx}/d\uDCFE/f\uDC80`, 'user.k', Buffer.from('v'));
    const source = { root: ctx, ownership: 'keep' as const };

    await copy(opts(['.'], '/kept/', { source, xattrs: fileXattrs }));
    const kept = lstatSync(rawPathIn(dest, 'kept/d', [0xfe], '/f', [0x80]));
    expect([kept.uid, kept.gid]).toEqual([1234, 5678]);
    expect(Buffer.from(await fileXattrs.get(`${dest}/kept/d\uDCFE/f\uDC80`, 'user.k')).toString()).toBe('v');

    await copy(opts(['.'], '/owned/', { source, chown: '7:8', chmod: parseChmod('0751') }));
    for (const p of [rawPathIn(dest, 'owned/d', [0xfe]), rawPathIn(dest, 'owned/d', [0xfe], '/f', [0x80])]) {
      const st = lstatSync(p);
      expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([7, 8, 0o751]);
    }
  });
});
