// COPY/ADD sources that are URLs or git repositories (with ?query options), and wildcards
// with a `-`: each is either built or refused with one clear error at its instruction, and
// nothing is written. No source is fetched: every URL names a closed loopback port.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-remote-'));
const root = join(work, 'root');
const HOST = 'http://127.0.0.1:9';

let n = 0;
function build(dockerfile: string, extra: string[] = [], files: Record<string, string> = {}) {
  const dir = writeContext(join(work, `ctx-${++n}`), { Dockerfile: dockerfile, ...files });
  const dest = join(work, `out-${n}`);
  const r = tsbuildSync(['build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${dest}`, ...extra, dir]);
  return { ...r, dest };
}

/** One error paragraph at `where`, exit status 1, no stack trace, no output written. */
function expectRefused(r: ReturnType<typeof build>, where: string, message: string) {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toContain(`error: ${where}: ${message}`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('regular expression');
  expect(existsSync(r.dest)).toBe(false);
}

describe.skipIf(!isRoot && !isCI)('URL and git sources, query strings', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ADD of a git URL with ?keep-git-dir= says git sources are not supported yet, at its line', () => {
    const r = build(`FROM scratch\nCOPY a.txt /\nADD ${HOST}/repo.git?keep-git-dir=true /x\n`, [], { 'a.txt': 'a' });
    expectRefused(r, `${dockerfileOf(n)}:3:1`, `not supported yet: ADD from a git repository (${HOST}/repo.git?keep-git-dir=true)`);
    // The step before it never ran either: the refusal comes before any step.
    expect(r.stderr).not.toContain('COPY a.txt');
  });

  it('a wrong git query is named as such; COPY of a URL or git ref is an error of the Dockerfile', () => {
    expectRefused(build(`FROM scratch\nADD ${HOST}/repo.git?ref=v1&depth=1 /x\n`), `${dockerfileOf(n)}:2:1`, `${HOST}/repo.git?ref=v1&depth=1: unexpected query "depth"`);
    expectRefused(build(`FROM scratch\nADD --keep-git-dir=false ${HOST}/repo.git?keep-git-dir=1 /x\n`), `${dockerfileOf(n)}:2:1`, 'inconsistent keep-git-dir configuration');
    expectRefused(build(`FROM scratch\nCOPY ${HOST}/repo.git?ref=v1 /x\n`), `${dockerfileOf(n)}:2:1`, "source can't be a git ref for COPY");
    expectRefused(build(`FROM scratch\nCOPY ${HOST}/file.txt?x=1 /x\n`), `${dockerfileOf(n)}:2:1`, "source can't be a URL for COPY");
    expectRefused(build(`FROM scratch\nADD ${HOST}/file.txt?x=1 /x\n`), `${dockerfileOf(n)}:2:1`, `not supported yet: ADD from a URL (${HOST}/file.txt?x=1)`);
  });

  it('COPY --from= a git URL is an invalid image name at its line', () => {
    const r = build(`FROM scratch\nCOPY --from=${HOST.replace('http://', 'https://')}/repo.git?ref=v1 / /x\n`);
    expectRefused(r, `${dockerfileOf(n)}:2:1`, 'invalid reference format');
  });

  it('--build-context NAME= a git URL with ?ref= is not supported yet', () => {
    const r = build('FROM scratch\nCOPY --from=x / /\n', ['--build-context', `x=${HOST}/repo.git?ref=v1`]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error: not supported yet: --build-context x from a URL or git repository (${HOST}/repo.git?ref=v1)`);
    expect(existsSync(r.dest)).toBe(false);
  });

  it('a wildcard with a - in it (and a literal ?) copies what it matches', () => {
    const r = build('FROM scratch\nCOPY a-?.txt /out/\nCOPY ["q\\\\?x-y", "/q/"]\n', [], { 'a-1.txt': 'one', 'a-22.txt': 'no', 'q?x-y': 'query' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(r.dest, 'out', 'a-1.txt'), 'utf8')).toBe('one');
    expect(existsSync(join(r.dest, 'out', 'a-22.txt'))).toBe(false);
    expect(readFileSync(join(r.dest, 'q', 'q?x-y'), 'utf8')).toBe('query');
  });
});

/** How errors name the Dockerfile of build `i` (the path as given on the command line). */
function dockerfileOf(i: number): string {
  return join(work, `ctx-${i}`, 'Dockerfile');
}
