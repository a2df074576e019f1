import { describe, expect, it } from 'vitest';
import { BuildError } from '../errors/index.js';
import { parseIgnoreFile } from './parse.js';

const parse = (text: string) => parseIgnoreFile(text, '.dockerignore').map((p) => (p.exception ? '!' : '') + p.pattern);

function parseError(text: string): BuildError {
  try {
    parseIgnoreFile(text, 'ctx/.dockerignore');
  } catch (e) {
    if (e instanceof BuildError) return e;
    throw e;
  }
  throw new Error('expected a BuildError');
}

describe('parseIgnoreFile', () => {
  it('skips blank lines and lines starting with #', () => {
    expect(parse('# build output\n\ndist\n   \n#tmp\nlogs\n')).toEqual(['dist', 'logs']);
  });

  it('treats an indented # as a pattern, as Docker does (comments start in column 1)', () => {
    expect(parse('  # not a comment')).toEqual(['# not a comment']);
  });

  it('trims white space around the pattern and after the !', () => {
    expect(parse('  dist  \n\t!  dist/keep.txt \t')).toEqual(['dist', '!dist/keep.txt']);
  });

  it('handles CRLF line ends and strips one byte-order mark on the first line only', () => {
    expect(parse('\uFEFFa\r\nb\r\n')).toEqual(['a', 'b']);
    expect(parse('\uFEFF# comment\nx')).toEqual(['x']);
    expect(parse('a\n\uFEFFb')).toEqual(['a', '\uFEFFb']);
  });

  it('cleans patterns like Go filepath.Clean and drops a leading / or ./', () => {
    expect(parse('/dist/\n./src//gen/./x\nbuild/../out\n!/keep\n!./also')).toEqual([
      'dist',
      'src/gen/x',
      'out',
      '!keep',
      '!also',
    ]);
  });

  it('quirk: trims before cleaning, so cleaning can leave a space at the end', () => {
    expect(parse('a /\t/')).toEqual(['a ']);
    expect(parse('/\t/a')).toEqual(['/a']); // rooted again, so it matches nothing
  });

  it('keeps patterns Docker keeps even though they match nothing', () => {
    expect(parse('.\n/\n../up')).toEqual(['.', '/', '../up']);
  });

  it('quirk: `/!x` is an exception, since the / is stripped after the ! test and Docker tests again', () => {
    expect(parse('/!keep\n/! spaced\n/!./x')).toEqual(['!keep', '! spaced', '!./x']);
  });

  it('keeps a second ! as a literal character of an exception', () => {
    expect(parse('!!important')).toEqual(['!!important']);
  });

  it('records where each pattern is', () => {
    const [first, second] = parseIgnoreFile('# c\n  *.log  \n!x', 'f');
    expect(first!.range).toEqual({ file: 'f', start: { line: 2, column: 3 }, end: { line: 2, column: 8 } });
    expect(second!.range!.start).toEqual({ line: 3, column: 1 });
  });

  it('rejects an unterminated class with the line, the pattern and a hint', () => {
    const e = parseError('ok\n  logs/[0-9  \n');
    expect(e.code).toBe('BAD_IGNORE_FILE');
    expect(e.message).toContain('logs/[0-9');
    expect(e.message).toContain('unterminated');
    expect(e.range).toEqual({ file: 'ctx/.dockerignore', start: { line: 2, column: 3 }, end: { line: 2, column: 12 } });
    expect(e.hint).toMatch(/\^/);
  });

  it.each(['[]', '[a-]', 'x\\', '[^]'])('rejects the Go Match syntax error %j', (pattern) => {
    expect(parseError(pattern).code).toBe('BAD_IGNORE_FILE');
  });

  it.each(['!', '! ', '!/', '!/..'])('rejects the empty exception %j', (line) => {
    const e = parseError(line);
    expect(e.message).toContain('illegal exclusion pattern');
    expect(e.range?.start.line).toBe(1);
  });

  it('rejects patterns whose Go regular expression does not compile (Docker fails on them when matching)', () => {
    expect(parseError('*\\y').message).toContain('invalid escape');
    expect(parseError('[z-a]*').message).toContain('invalid character class range');
    expect(parseError('*{2000}').message).toContain('invalid repeat count');
  });

  it('accepts the same odd escapes as plain literals when no regexp is involved', () => {
    expect(parse('a{2000}\nx|y')).toEqual(['a{2000}', 'x|y']);
  });

  it('rejects a line of 64 KiB or more, as Go line scanning does', () => {
    expect(parse('x'.repeat(65_535))).toHaveLength(1);
    expect(parseError('#' + 'x'.repeat(65_535)).message).toContain('too long');
    expect(parseError('é'.repeat(32_768)).message).toContain('too long');
  });
});
