// COPY/ADD --exclude end to end, checked on the files a build writes: BuildKit's own test
// (frontend/dockerfile/exclude_patterns_test.go) and the wildcard-source case where BuildKit
// and the Dockerfile reference part ways. The cache key must follow what is copied.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-exclude-'));
const root = join(work, 'root');

function build(dir: string, out: string) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${out}`, dir]);
}

/** The file's content, or a symlink's target; undefined when it does not exist. */
function contentOf(path: string): string | undefined {
  if (!existsSync(path) && !isLink(path)) return undefined;
  return isLink(path) ? readlinkSync(path) : readFileSync(path, 'utf8');
}
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** exclude_patterns_test.go's context: four directories of files, two symlinks (one dangling). */
function excludeContext(dir: string, dockerfile: string): string {
  writeContext(dir, {
    Dockerfile: dockerfile,
    'dir1/file-101.png': '2', 'dir1/file-102.txt': '3', 'dir1/file-103.jpeg': '4',
    'dir2/file-201.pdf': '6', 'dir2/file-202.jpeg': '7', 'dir2/file-203.png': '8',
    'dir3/file-301.mp3': '9', 'dir3/file-302.mpeg': '10',
    'dir4/file-401.txt': '11',
  });
  symlinkSync('file-401.txt', join(dir, 'dir4/file-402.txt'));
  symlinkSync('file-404.txt', join(dir, 'dir4/file-403.txt'));
  return dir;
}

const stages = (from: string) => `
FROM scratch as builder1
COPY ${from}--exclude=*/*.png --exclude=*/*.jpeg . /1

FROM scratch as builder2
COPY ${from}--exclude=*/*.pdf --exclude=*/*.txt . /2

FROM scratch as builder3
${from === '' ? 'ADD' : 'COPY'} ${from}--exclude=*.mp3 dir3/ /3/

FROM scratch as builder4
COPY ${from}--exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/

FROM scratch as builder5
${from === '' ? 'ADD' : 'COPY'} ${from}--exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5

FROM scratch as builder6
${from === '' ? 'ADD' : 'COPY'} ${from}--exclude=* dir* /6

FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6
`;

/** exclude_patterns_test.go's table: path → content, or null when excluded. */
const expected: Record<string, string | null> = {
  'builder1/1/dir1/file-101.png': null, 'builder1/1/dir1/file-102.txt': '3', 'builder1/1/dir1/file-103.jpeg': null,
  'builder1/1/dir2/file-201.pdf': '6', 'builder1/1/dir2/file-202.jpeg': null, 'builder1/1/dir2/file-203.png': null,
  'builder1/1/dir3/file-301.mp3': '9', 'builder1/1/dir3/file-302.mpeg': '10', 'builder1/1/dir4/file-401.txt': '11',
  'builder1/1/dir4/file-402.txt': 'file-401.txt', 'builder1/1/dir4/file-403.txt': 'file-404.txt',
  'builder2/2/dir1/file-101.png': '2', 'builder2/2/dir1/file-102.txt': null, 'builder2/2/dir1/file-103.jpeg': '4',
  'builder2/2/dir2/file-201.pdf': null, 'builder2/2/dir2/file-202.jpeg': '7', 'builder2/2/dir2/file-203.png': '8',
  'builder2/2/dir3/file-301.mp3': '9', 'builder2/2/dir3/file-302.mpeg': '10', 'builder2/2/dir4/file-401.txt': null,
  'builder2/2/dir4/file-402.txt': null, 'builder2/2/dir4/file-403.txt': null,
  'builder3/3/file-301.mp3': null, 'builder3/3/file-302.mpeg': '10',
  'builder4/4/file-101.png': null, 'builder4/4/file-102.txt': null, 'builder4/4/file-103.jpeg': null,
  'builder4/4/file-201.pdf': null, 'builder4/4/file-202.jpeg': null, 'builder4/4/file-203.png': null,
  'builder4/4/file-301.mp3': null, 'builder4/4/file-302.mpeg': '10', 'builder4/4/dir4/file-401.txt': null,
  'builder4/4/dir4/file-402.txt': null, 'builder4/4/dir4/file-403.txt': null,
  'builder5/5/file-101.png': null, 'builder5/5/file-102.txt': '3', 'builder5/5/file-103.jpeg': null,
  'builder5/5/file-201.pdf': null, 'builder5/5/file-202.jpeg': null, 'builder5/5/file-203.png': null,
  'builder5/5/file-301.mp3': null, 'builder5/5/file-302.mpeg': null, 'builder5/5/file-401.txt': '11',
  'builder5/5/file-402.txt': 'file-401.txt', 'builder5/5/file-403.txt': 'file-404.txt',
};

function checkTable(out: string): void {
  const got = Object.fromEntries(Object.keys(expected).map((p) => [p, contentOf(join(out, p)) ?? null]));
  expect(got).toEqual(expected);
  // Everything excluded: the destination exists and is empty.
  expect(readdirSync(join(out, 'builder6/6'))).toEqual([]);
}

describe.skipIf(!isRoot && !isCI)('COPY --exclude, end to end', () => {
  beforeAll(() => mkdirSync(root, { recursive: true }));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('testExcludedFilesOnCopy: from the build context', () => {
    const dir = excludeContext(join(work, 'context'), stages(''));
    const out = join(work, 'context-out');
    expectOk(build(dir, out));
    checkTable(out);
  });

  it('testExcludedFilesOnCopy: from another stage (COPY --from=base)', () => {
    const dir = excludeContext(join(work, 'stage'), `FROM scratch AS base\nCOPY . /\n${stages('--from=base ')}`);
    const out = join(work, 'stage-out');
    expectOk(build(dir, out));
    checkTable(out);
  });

  // The Dockerfile reference says `COPY --exclude=*.txt hom* /mydir/` leaves out the .txt
  // files; BuildKit matches --exclude only below each copied source (fsutil never tests the
  // source itself), so a file the wildcard names is copied anyway (moby/buildkit#5489).
  // tsbuild does what BuildKit does.
  it('a file a wildcard source names is copied even when --exclude matches it, as in BuildKit', () => {
    const dir = writeContext(join(work, 'hom'), {
      Dockerfile: 'FROM scratch\nCOPY --exclude=*.txt hom* /mydir/\n',
      'homa.txt': 'a\n', 'homb.md': 'b\n', 'homdir/c.txt': 'c\n', 'homdir/d.md': 'd\n', 'other.txt': 'o\n',
    });
    const out = join(work, 'hom-out');
    expectOk(build(dir, out));
    // homdir's contents go into /mydir, its .txt left out; the files named by hom* are copied.
    expect(readdirSync(join(out, 'mydir')).sort()).toEqual(['d.md', 'homa.txt', 'homb.md']);

    // The cache key follows exactly what is copied: homa.txt counts, homdir/c.txt does not.
    writeFileSync(join(dir, 'homdir/c.txt'), 'changed\n');
    const unchanged = build(dir, join(work, 'hom-out2'));
    expectOk(unchanged);
    expect(unchanged.stderr).toMatch(/\] COPY --exclude=\*\.txt hom\* \/mydir\/\n#\d+ CACHED/);
    writeFileSync(join(dir, 'homa.txt'), 'new\n');
    const out3 = join(work, 'hom-out3');
    const changed = build(dir, out3);
    expectOk(changed);
    expect(changed.stderr).not.toMatch(/COPY --exclude=\*\.txt hom\* \/mydir\/\n#\d+ CACHED/);
    expect(readFileSync(join(out3, 'mydir/homa.txt'), 'utf8')).toBe('new\n');
  });

  // Patterns are .dockerignore's: `*.txt` only at the top of the source, `**/*.txt` at any
  // depth (moby/buildkit#5509); a `!` exception brings a file back from an excluded directory.
  it('matches like .dockerignore below each source: **, directories and ! exceptions', () => {
    const dir = excludeContext(join(work, 'patterns'), [
      'FROM scratch',
      'COPY --exclude=**/*.txt --exclude=dir2 . /deep',
      'COPY --exclude=dir1 --exclude=!dir1/file-102.txt --exclude=dir[34] . /back',
      '',
    ].join('\n'));
    const out = join(work, 'patterns-out');
    expectOk(build(dir, out));
    expect(readdirSync(join(out, 'deep')).sort()).toEqual(['Dockerfile', 'dir1', 'dir3', 'dir4']);
    expect(readdirSync(join(out, 'deep/dir1')).sort()).toEqual(['file-101.png', 'file-103.jpeg']);
    expect(readdirSync(join(out, 'deep/dir4'))).toEqual([]);
    expect(readdirSync(join(out, 'back')).sort()).toEqual(['Dockerfile', 'dir1', 'dir2']);
    expect(readdirSync(join(out, 'back/dir1'))).toEqual(['file-102.txt']);
  });
});
