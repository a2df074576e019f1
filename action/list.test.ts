import { describe, expect, it } from 'vitest';
import { csvRecords, parseList } from './list.js';

// Expected values are what build-push-action's list reading gives for the same text (its CSV
// parser with relaxed quotes and skipped empty lines, then its split/join/filter/trim), as that
// parser (csv-parse 7) returned them; csvRecords also agreed with it on 400,000 random strings
// of a , " space # CR LF (compared once by hand: the parser is no dependency of the project).
describe('csvRecords', () => {
  const cases: [string, boolean, string[][]][] = [
    ['a,b\nc', true, [['a', 'b'], ['c']]],
    ['"a,b"\nc', true, [['a,b'], ['c']]],
    ['a"b,c', true, [['a"b', 'c']]],
    ['"a""b",c', true, [['a"b', 'c']]],
    ['"a"x', true, [['"a"x']]],
    ['"a" ', true, [['"a" ']]],
    [' "a"', true, [[' "a"']]],
    ['x,"a"y', true, [['x', '"a"y']]],
    // Text after a closing quote: the quotes stay, doubled ones inside read as one.
    ['"a""b"x', true, [['"a"b"x']]],
    ['""""b', true, [['"""b']]],
    ['"a",', true, [['a', '']]],
    ['"x\ny",z', true, [['x\ny', 'z']]],
    ['a,,b', true, [['a', '', 'b']]],
    ['# c\nd', true, [['# c'], ['d']]],
    ['\n\na\n  \n', true, [['a'], ['  ']]],
    [' \n,\n', true, [[' '], ['', '']]],
    // The first line break met decides which ends records.
    ['a\r\nb\rc', true, [['a'], ['b\rc']]],
    ['a\rb\nc', true, [['a'], ['b\nc']]],
    ['a\nb\r\nc', true, [['a'], ['b\r'], ['c']]],
    ['a\n\r\nb', true, [['a'], ['\r'], ['b']]],
    // Quotes off: every `"` is a character.
    ['"a,b"\nc', false, [['"a', 'b"'], ['c']]],
    ['"a""b",c', false, [['"a""b"', 'c']]],
    ['"a', false, [['"a']]],
    ['"x\ny",z', false, [['"x'], ['y"', 'z']]],
  ];
  it.each(cases)('%j (quotes %s)', (text, quote, want) => {
    expect(csvRecords('x', text, quote)).toEqual(want);
  });

  it('refuses a quote that is never closed, naming the input', () => {
    expect(() => csvRecords('tags', '"a', true)).toThrow('input "tags": a quote is not closed');
  });
});

describe('parseList', () => {
  it('splits each line at its commas unless told to keep commas', () => {
    expect(parseList('tags', 'a/b:1,a/b:2\na/b:3')).toEqual(['a/b:1', 'a/b:2', 'a/b:3']);
    expect(parseList('labels', 'a=1,2\nb=3', { ignoreComma: true })).toEqual(['a=1,2', 'b=3']);
  });

  it('splits a quoted item at its commas too when commas split (as build-push-action does)', () => {
    expect(parseList('platforms', '"linux/amd64,linux/arm64"')).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('joins the fields of a line back with commas when commas are kept; quotes protect a line break', () => {
    expect(parseList('build-args', '"A=1,2",B\n"C=x\ny"', { ignoreComma: true })).toEqual(['A=1,2,B', 'C=x\ny']);
  });

  it('keeps quotes as written with quotes off (outputs)', () => {
    expect(parseList('outputs', 'type=local,"dest=a b"', { ignoreComma: true, quote: false })).toEqual(['type=local,"dest=a b"']);
  });

  it('drops empty items, then trims; spaces-only items become empty ones', () => {
    expect(parseList('tags', 'a,,b,\n\n c \n')).toEqual(['a', 'b', 'c']);
    expect(parseList('tags', 'a\n   \nb')).toEqual(['a', '', 'b']);
  });

  it('keeps white space when asked (secrets)', () => {
    expect(parseList('secrets', ' A= x \nB=y', { ignoreComma: true, trimWhitespace: false })).toEqual([' A= x ', 'B=y']);
  });

  it('takes # as text: no comments', () => {
    expect(parseList('tags', '# the tags\na:1')).toEqual(['# the tags', 'a:1']);
  });

  it('reads docker/metadata-action outputs unchanged', () => {
    const tags = 'ghcr.io/me/app:main\nghcr.io/me/app:sha-1a2b3c4';
    expect(parseList('tags', tags)).toEqual(['ghcr.io/me/app:main', 'ghcr.io/me/app:sha-1a2b3c4']);
    const labels = 'org.opencontainers.image.title=app\norg.opencontainers.image.description=An app, with commas\norg.opencontainers.image.revision=1a2b3c4';
    expect(parseList('labels', labels, { ignoreComma: true })).toEqual([
      'org.opencontainers.image.title=app',
      'org.opencontainers.image.description=An app, with commas',
      'org.opencontainers.image.revision=1a2b3c4',
    ]);
  });
});
