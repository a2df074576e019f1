import { describe, expect, it } from 'vitest';
import { filterPaths } from './filter.js';
import { compileMatcher } from './matcher.js';
import { parseIgnoreFile } from './parse.js';

const matcherOf = (...lines: string[]) => compileMatcher(parseIgnoreFile(lines.join('\n'), '.dockerignore'));

/** The paths of `paths` that the patterns leave out of the context. */
function excluded(lines: string[], paths: string[]): string[] {
  const m = matcherOf(...lines);
  return paths.filter((p) => m.matches(p));
}

describe('Matcher.matches: Go filepath.Match syntax', () => {
  it('anchors patterns at the context root; `*` stays within one path element', () => {
    expect(excluded(['*.md'], ['README.md', 'docs/guide.md', 'md'])).toEqual(['README.md']);
    expect(excluded(['*/*.md'], ['README.md', 'docs/guide.md', 'docs/api/ref.md'])).toEqual(['docs/guide.md']);
    expect(excluded(['a*/b'], ['abc/b', 'a/c/b', 'a/b'])).toEqual(['abc/b', 'a/b']);
  });

  it('`?` is exactly one character other than /', () => {
    expect(excluded(['file?.txt'], ['file1.txt', 'file10.txt', 'file.txt', 'file/.txt', 'fileé.txt'])).toEqual([
      'file1.txt',
      'fileé.txt',
    ]);
  });

  it('classes take ranges, `^` negates and `!` is an ordinary member', () => {
    expect(excluded(['log[0-9].txt'], ['log3.txt', 'logx.txt', 'log10.txt'])).toEqual(['log3.txt']);
    expect(excluded(['[^x]y'], ['ay', 'xy', '!y'])).toEqual(['ay', '!y']);
    expect(excluded(['[!x]y'], ['ay', 'xy', '!y'])).toEqual(['xy', '!y']);
    expect(excluded(['[\\]]x'], [']x', '\\x'])).toEqual([']x']);
  });

  it('quirk: a negated class can match "/" (the class goes to RE2 untouched)', () => {
    expect(excluded(['a[^x]b'], ['a/b', 'axb'])).toEqual(['a/b']);
  });

  it('a backslash escapes a wildcard', () => {
    expect(excluded(['\\*.txt'], ['*.txt', 'a.txt'])).toEqual(['*.txt']);
    expect(excluded(['a\\?b'], ['a?b', 'axb'])).toEqual(['a?b']);
    expect(excluded(['x\\\\y'], ['x\\y'])).toEqual(['x\\y']);
  });

  it('quirk: an escaped letter keeps its regexp meaning, so `\\d` is any digit, not "d"', () => {
    expect(excluded(['v\\d'], ['v1', 'vd'])).toEqual(['v1']);
  });

  it('regexp characters in a pattern are literal', () => {
    expect(excluded(['a(b)+c.$*'], ['a(b)+c.$', 'a(b)+c.$x', 'abbc'])).toEqual(['a(b)+c.$', 'a(b)+c.$x']);
  });
});

describe('Matcher.matches: ** and directories', () => {
  it('`**/name` matches at any depth, the root included', () => {
    expect(excluded(['**/node_modules'], ['node_modules', 'pkg/node_modules/x/y.js', 'my_node_modules'])).toEqual([
      'node_modules',
      'pkg/node_modules/x/y.js',
    ]);
    expect(excluded(['**/*.log'], ['a.log', 'x/y/z.log', 'x/y.logs'])).toEqual(['a.log', 'x/y/z.log']);
  });

  it('`dir/**` matches everything below dir but not dir itself', () => {
    expect(excluded(['logs/**'], ['logs', 'logs/a', 'logs/a/b', 'logsx/a'])).toEqual(['logs/a', 'logs/a/b']);
    expect(matcherOf('logs/**').dirVerdict('logs')).toBe('included');
  });

  it('`a/**/b` matches b directly under a and at any depth below', () => {
    expect(excluded(['a/**/b'], ['a/b', 'a/x/b', 'a/x/y/b', 'a/x/b/c', 'a/xb', 'b'])).toEqual([
      'a/b',
      'a/x/b',
      'a/x/y/b',
      'a/x/b/c',
    ]);
  });

  it('`**` alone excludes everything', () => {
    expect(excluded(['**'], ['a', 'a/b/c'])).toEqual(['a', 'a/b/c']);
  });

  it('quirk: a leading `**` without a slash is a bare suffix test', () => {
    expect(excluded(['**cache'], ['cache', 'mycache', 'a/b/mycache', 'cache/x'])).toEqual([
      'cache',
      'mycache',
      'a/b/mycache',
      'cache/x',
    ]);
  });

  it('quirk: a trailing `**` without a slash is a bare prefix test', () => {
    expect(excluded(['tmp**'], ['tmp', 'tmpfile', 'tmp/x', 'tmpdir/x', 'atmp'])).toEqual([
      'tmp',
      'tmpfile',
      'tmp/x',
      'tmpdir/x',
    ]);
  });

  it('quirk: `**` inside an element becomes "any directories", so `a**b` needs a / or nothing', () => {
    expect(excluded(['a**b'], ['ab', 'a/b', 'ax/b', 'axb'])).toEqual(['ab', 'a/b', 'ax/b']);
  });

  it('a pattern matching a directory excludes everything below it', () => {
    expect(excluded(['build'], ['build', 'build/x/y.o', 'builder/x'])).toEqual(['build', 'build/x/y.o']);
    expect(excluded(['*'], ['a', 'a/b/c'])).toEqual(['a', 'a/b/c']);
  });

  it('a trailing slash does not restrict a pattern to directories', () => {
    expect(excluded(['build/'], ['build', 'src/build'])).toEqual(['build']);
  });

  it('leading / and ./ are the same as none; `.` and `..` patterns match nothing', () => {
    expect(excluded(['/dist', './tmp'], ['dist', 'tmp/a', 'src/dist'])).toEqual(['dist', 'tmp/a']);
    expect(excluded(['.', '../x', '/'], ['a', 'x', 'x/y'])).toEqual([]);
  });
});

describe('Matcher.matches: exceptions', () => {
  it('the last matching line wins', () => {
    expect(excluded(['*.md', '!README.md'], ['README.md', 'CHANGES.md'])).toEqual(['CHANGES.md']);
    expect(excluded(['!README.md', '*.md'], ['README.md', 'CHANGES.md'])).toEqual(['README.md', 'CHANGES.md']);
    expect(excluded(['*.md', '!README*.md', 'README-secret.md'], ['README.md', 'README-secret.md', 'x.md'])).toEqual([
      'README-secret.md',
      'x.md',
    ]);
    expect(excluded(['*.md', 'README-secret.md', '!README*.md'], ['README-secret.md', 'x.md'])).toEqual(['x.md']);
  });

  it('an exception re-includes a path below an excluded directory, and what lies below it', () => {
    const lines = ['vendor', '!vendor/keep'];
    expect(excluded(lines, ['vendor', 'vendor/keep', 'vendor/keep/a/b', 'vendor/other', 'vendor/keeper'])).toEqual([
      'vendor',
      'vendor/other',
      'vendor/keeper',
    ]);
  });

  it('"everything but" files: * then exceptions', () => {
    const lines = ['*', '!src', '!package.json', 'src/**/*.test.ts'];
    expect(excluded(lines, ['package.json', 'README.md', 'src/a.ts', 'src/x/a.test.ts', 'dist/a.js'])).toEqual([
      'README.md',
      'src/x/a.test.ts',
      'dist/a.js',
    ]);
  });

  it("quirk (BuildKit's walker): an exception naming a parent is not tried while the parent is included", () => {
    // `!a` is skipped for `a` (not excluded then), so `a/b`, excluded by line 1, stays excluded.
    expect(excluded(['a/b', '!a'], ['a', 'a/b', 'a/c'])).toEqual(['a/b']);
  });

  it('quirk (BuildKit\'s walker): repeating a directory exclusion after an exception below it does not undo the exception', () => {
    // The third line is skipped for `dist` (already excluded), so it is no hit for `dist/app.js`.
    expect(excluded(['dist', '!dist/app.js', 'dist'], ['dist/app.js', 'dist/other.js'])).toEqual(['dist/other.js']);
    expect(excluded(['dist', '!dist/app.js', 'dist/*'], ['dist/app.js'])).toEqual(['dist/app.js']);
  });
});

describe('Matcher.matches: regexp quirks Docker has', () => {
  it('`^` is literal in a plain pattern but an anchor once the pattern has a wildcard', () => {
    expect(excluded(['^notes'], ['^notes', 'notes'])).toEqual(['^notes']);
    expect(excluded(['^notes*'], ['^notes', 'notes.txt'])).toEqual(['notes.txt']);
  });

  it('`|` is literal in a plain pattern but alternation once the pattern has a wildcard', () => {
    expect(excluded(['a|b'], ['a|b', 'a', 'b'])).toEqual(['a|b']);
    // RE2 reads ^[^/]*\.js|[^/]*\.ts$ : "starts with *.js" or "ends with *.ts", at any depth.
    expect(excluded(['*.js|*.ts'], ['x.ts', 'x.jsx', 'deep/dir/y.ts', 'x.js|x.ts', 'deep/y.js'])).toEqual([
      'x.ts',
      'x.jsx',
      'deep/dir/y.ts',
      'x.js|x.ts',
    ]);
  });

  it('`{n}` repeats once the pattern has a wildcard', () => {
    expect(excluded(['v{2}*'], ['vv', 'vv1', 'v{2}', 'v'])).toEqual(['vv', 'vv1']);
    expect(excluded(['v{2}'], ['vv', 'v{2}'])).toEqual(['v{2}']);
  });
});

describe('directory verdicts for a walker', () => {
  it('skips an excluded directory when there are no exceptions', () => {
    const m = matcherOf('node_modules', '*.log');
    expect(m.dirVerdict('node_modules')).toBe('excluded-subtree');
    expect(m.dirVerdict('src')).toBe('included');
  });

  it('walks an excluded directory only where a literal exception lies below it', () => {
    const m = matcherOf('vendor', 'docs', '!vendor/keep/**');
    expect(m.dirVerdict('vendor')).toBe('excluded-but-walk');
    expect(m.dirVerdict('vendor/keep')).toBe('excluded-but-walk');
    expect(m.dirVerdict('vendor/other')).toBe('excluded-subtree');
    expect(m.dirVerdict('docs')).toBe('excluded-subtree');
    expect(m.matches('vendor/keep/a.go')).toBe(false);
  });

  it('walks every excluded directory when an exception has a wildcard', () => {
    const m = matcherOf('node_modules', '!**/*.md');
    expect(m.dirVerdict('node_modules')).toBe('excluded-but-walk');
    expect(m.dirVerdict('node_modules/x')).toBe('excluded-but-walk');
    expect(m.matches('node_modules/x/README.md')).toBe(false);
  });

  it('enterDir and matchesIn agree with matches', () => {
    const m = matcherOf('*', '!src', 'src/gen');
    const src = m.enterDir('src', undefined);
    expect(src.verdict).toBe('included');
    const gen = m.enterDir('src/gen', src);
    expect(gen.verdict).toBe('excluded-subtree');
    expect(m.matchesIn('src/gen/x.ts', gen)).toBe(true);
    expect(m.matchesIn('src/main.ts', src)).toBe(false);
    expect(m.matchesIn('README.md', undefined)).toBe(true);
  });

  it('refuses a directory state from another matcher', () => {
    const state = matcherOf('a').enterDir('x', undefined);
    expect(() => matcherOf('a', 'b').matchesIn('x/y', state)).toThrow(TypeError);
  });
});

describe('filterPaths', () => {
  it('keeps included paths in order and brings back excluded parents of re-included paths', () => {
    const m = matcherOf('node_modules', '!node_modules/keep/**', '*.log');
    const paths = [
      'package.json',
      'node_modules',
      'node_modules/keep',
      'node_modules/keep/index.js',
      'node_modules/drop',
      'node_modules/drop/index.js',
      'debug.log',
      'src',
      'src/a.ts',
    ];
    expect(filterPaths(m, paths)).toEqual([
      'package.json',
      'node_modules',
      'node_modules/keep',
      'node_modules/keep/index.js',
      'src',
      'src/a.ts',
    ]);
  });

  it('brings back an excluded ancestor above an included directory', () => {
    const m = matcherOf('a', '!a/b');
    expect(filterPaths(m, ['a', 'a/b', 'a/b/c', 'a/x'])).toEqual(['a', 'a/b', 'a/b/c']);
  });

  it('with no patterns keeps everything', () => {
    expect(filterPaths(matcherOf(), ['a', 'b/c'])).toEqual(['a', 'b/c']);
  });
});

describe('compileMatcher', () => {
  it('refuses a hand-made pattern Docker would refuse, as BAD_IGNORE_FILE', () => {
    expect(() => compileMatcher([{ pattern: 'a[', exception: false }])).toThrow(
      expect.objectContaining({ code: 'BAD_IGNORE_FILE' }),
    );
  });
});
