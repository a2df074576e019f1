// --no-cache and --no-cache-filter: which steps run again, seen in the files they write (a
// random value per run), as BuildKit's frontend and solver decide it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-nocache-'));
const root = join(work, 'root');
let n = 0;

/** Builds `dir` into a fresh directory (type=local); returns a reader of its files. */
function build(dir: string, extra: string[] = []): (path: string) => string {
  const dest = join(work, `out-${++n}`);
  expectOk(tsbuildSync(['build', '--root', root, '--progress', 'plain', '-o', `type=local,dest=${dest}`, ...extra, dir]));
  return (path) => readFileSync(join(dest, path), 'utf8');
}

const RANDOM = 'head -c 100 /dev/urandom | sha256sum';

describe.skipIf(!isRoot && !isCI)('--no-cache, --no-cache-filter', () => {
  beforeAll(async () => {
    expectOk(tsbuildSync(['build', '--root', root, '--progress', 'quiet', '-t', 'busybox:nocache', await busyboxBaseContext(join(work, 'base'))]));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('testNoCache: --no-cache runs every stage again, --no-cache-filter s1 only s1 and what uses it', () => {
    const dir = writeContext(join(work, 'testNoCache'), {
      Dockerfile: [
        'FROM busybox:nocache AS s0',
        `RUN ${RANDOM} | tee unique`,
        'FROM busybox:nocache AS s1',
        `RUN ${RANDOM} | tee unique2`,
        'FROM scratch',
        'COPY --from=s0 unique /',
        'COPY --from=s1 unique2 /',
        '',
      ].join('\n'),
    });
    const first = build(dir);
    const all = build(dir, ['--no-cache']);
    expect(all('unique')).not.toBe(first('unique'));
    expect(all('unique2')).not.toBe(first('unique2'));
    const filtered = build(dir, ['--no-cache-filter', 's1']);
    expect(filtered('unique')).toBe(all('unique'));
    expect(filtered('unique2')).not.toBe(all('unique2'));
    expect(filtered('unique2')).not.toBe(first('unique2'));
  });

  it('a filtered stage below the target runs again although the target\'s own steps would hit', () => {
    const dir = writeContext(join(work, 'below'), {
      Dockerfile: [
        'FROM busybox:nocache AS base',
        'WORKDIR /w',
        `RUN ${RANDOM} > /rand`,
        `RUN ${RANDOM} > /rand2`,
        'FROM base AS app',
        `RUN cp /rand /copy && ${RANDOM} > /own`,
        '',
      ].join('\n'),
    });
    const first = build(dir);
    expect(first('copy')).toBe(first('rand'));
    // Unchanged: every step hits.
    const cached = build(dir);
    expect([cached('rand'), cached('rand2'), cached('own')]).toEqual([first('rand'), first('rand2'), first('own')]);
    // The stage named (in any case) runs all its RUN steps again, and the target's step on top
    // of it runs again as a consequence: it copies the new value.
    const base = build(dir, ['--no-cache-filter', 'BASE']);
    expect(base('rand')).not.toBe(first('rand'));
    expect(base('rand2')).not.toBe(first('rand2'));
    expect(base('copy')).toBe(base('rand'));
    expect(base('own')).not.toBe(first('own'));
    // Naming the target alone leaves the base's steps to the cache.
    const app = build(dir, ['--no-cache-filter', 'app']);
    expect([app('rand'), app('rand2'), app('copy')]).toEqual([base('rand'), base('rand2'), base('rand')]);
    expect(app('own')).not.toBe(base('own'));
    // A stage nobody named, and a name of no stage, change nothing.
    const none = build(dir, ['--no-cache-filter', 'other']);
    expect([none('rand'), none('own')]).toEqual([app('rand'), app('own')]);
  });

  it('--no-cache with --no-cache-filter is refused, as with buildx', () => {
    const r = tsbuildSync(['build', '--root', root, '--no-cache', '--no-cache-filter', 'x', join(work, 'below')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--no-cache and --no-cache-filter cannot currently be used together');
  });
});
