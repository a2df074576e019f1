import { describe, expect, it } from 'vitest';
import { parseGitQuery, remoteKind, remoteSourceError } from './remote.js';

describe('remoteKind', () => {
  it.each([
    ['https://example.com/repo.git', 'git'],
    ['https://example.com/repo.git?ref=v1&keep-git-dir=true', 'git'],
    ['https://example.com/repo.git#main:sub', 'git'],
    ['git@example.com:org/repo.git?ref=v1', 'git'],
    ['ssh://git@example.com/repo', 'git'],
    ['https://example.com/file.tar.gz?x=1', 'url'],
    ['https://example.com/x.git.tar?x=1', 'url'],
    ['repo.git?keep-git-dir=true', undefined],
    ['a-?.txt', undefined],
  ])('%s is %s', (src, kind) => {
    expect(remoteKind(src)).toBe(kind);
  });
});

describe('parseGitQuery (as BuildKit checks git sources)', () => {
  it.each([
    ['https://h/r.git?ref=v1&keep-git-dir=true', { keepGitDir: true }],
    ['https://h/r.git?keep-git-dir', { keepGitDir: true }],
    ['https://h/r.git?keep-git-dir=0&commit=abc', { keepGitDir: false, checksum: 'abc' }],
    ['https://h/r.git?tag=v1&subdir=docs', {}],
    ['https://h/r.git#v1:docs', {}],
  ])('%s is fine', (src, want) => {
    expect(parseGitQuery(src)).toEqual(want);
  });

  it.each([
    ['https://h/r.git?foo=1', 'unexpected query "foo"'],
    ['https://h/r.git?ref=', 'query "ref" has no value'],
    ['https://h/r.git?ref=a&ref=b', 'query "ref" has multiple values'],
    ['https://h/r.git?keep-git-dir=yes', 'invalid keep-git-dir value: "yes"'],
    ['https://h/r.git?mtime=now', 'invalid mtime value: "now" (must be "checkout" or "commit")'],
    ['https://h/r.git?tag=v1&branch=main', 'branch conflicts with tag'],
    ['https://h/r.git?ref=v2#v1', 'ref conflicts: "v1" vs "v2"'],
    ['https://h/r.git?subdir=b#v1:a', 'subdir conflicts: "a" vs "b"'],
    ['https://h/r.git?ref=a;b', 'invalid semicolon separator in query'],
  ])('%s: %s', (src, message) => {
    expect(parseGitQuery(src)).toBe(message);
  });
});

describe('remoteSourceError', () => {
  it('names what is wrong before what is not supported', () => {
    const wrong = remoteSourceError(['https://h/r.git?foo=1'], { instruction: 'ADD' });
    expect([wrong?.code, wrong?.message]).toEqual(['BAD_INSTRUCTION', 'https://h/r.git?foo=1: unexpected query "foo"']);
    const copy = remoteSourceError(['https://h/r.git?ref=v1'], { instruction: 'COPY' });
    expect([copy?.code, copy?.message]).toEqual(['BAD_INSTRUCTION', "source can't be a git ref for COPY"]);
    const url = remoteSourceError(['local', 'https://h/f?x=1'], { instruction: 'COPY' });
    expect(url?.message).toBe("source can't be a URL for COPY");
    const keep = remoteSourceError(['https://h/r.git?keep-git-dir=true'], { instruction: 'ADD', keepGitDir: false });
    expect(keep?.message).toBe('inconsistent keep-git-dir configuration');
    const sum = remoteSourceError(['https://h/r.git?checksum=abc'], { instruction: 'ADD', checksum: 'def' });
    expect(sum?.message).toBe('checksum mismatch "def" != "abc"');
  });

  it('says git and URL sources are not supported yet, and passes paths', () => {
    const git = remoteSourceError(['https://h/r.git?keep-git-dir=true'], { instruction: 'ADD' });
    expect([git?.code, git?.message]).toEqual(['NOT_SUPPORTED', 'not supported yet: ADD from a git repository (https://h/r.git?keep-git-dir=true)']);
    const url = remoteSourceError(['https://h/f.tgz?x=1'], { instruction: 'ADD' });
    expect([url?.code, url?.message]).toEqual(['NOT_SUPPORTED', 'not supported yet: ADD from a URL (https://h/f.tgz?x=1)']);
    expect(remoteSourceError(['a-?.txt', 'dir/'], { instruction: 'ADD' })).toBeUndefined();
  });
});
