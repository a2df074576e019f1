// Why a step missed an imported cache (--cache-from type=local), end to end with real builds:
// plain progress says it under the step that ran (`#N cache miss: …`), json progress carries
// the same reason as data and words. A changed file of the context, a build arg, a base image.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-miss-'));
const root = join(work, 'root');
const cache = join(work, 'ci-cache');
const app = join(work, 'app');
const BASE = 'busybox:miss';

const DOCKERFILE = [
  `FROM ${BASE}`,
  'COPY app.txt /app.txt',
  'RUN cat /app.txt > /copied',
  'ARG VERSION=1.2',
  'RUN echo "v=$VERSION" > /version',
  '',
].join('\n');

let n = 0;
/** A build of the app importing the cache runner A exported, its files into a fresh directory. */
function build(extra: readonly string[], progress: 'plain' | 'json' = 'plain'): { run: Run; file: (path: string) => string } {
  const out = join(work, `out-${++n}`);
  const run = tsbuildSync(['build', '--root', root, '--progress', progress, '-o', `type=local,dest=${out}`, '--cache-from', `type=local,src=${cache}`, ...extra, app]);
  expectOk(run);
  return { run, file: (path) => readFileSync(join(out, path), 'utf8') };
}

/** The base image into the store under BASE, with `extra` steps; its manifest digest. */
async function buildBase(dir: string, extra: readonly string[]): Promise<string> {
  const meta = join(dir, 'metadata.json');
  expectOk(tsbuildSync(['build', '--root', root, '--progress', 'quiet', '-t', BASE, '--metadata-file', meta, await busyboxBaseContext(dir, extra)]));
  return (JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>)['containerimage.digest']!;
}

/** The step number plain progress gave the step named `name`. */
function stepNumber(r: Run, name: string): string {
  const m = new RegExp(`^#(\\d+) ${name.replace(/[[\]/.*$]/g, (c) => `\\${c}`)}$`, 'm').exec(r.stderr);
  if (m === null) throw new Error(`no step ${name} in:\n${r.stderr}`);
  return m[1]!;
}
/** The reasons plain progress gave for the step named `name`. */
const reasonsOf = (r: Run, name: string): string[] =>
  [...r.stderr.matchAll(new RegExp(`^#${stepNumber(r, name)} cache miss: (.*)$`, 'gm'))].map((m) => m[1]!);
const allReasons = (r: Run): string[] => [...r.stderr.matchAll(/^#\d+ cache miss: (.*)$/gm)].map((m) => m[1]!);

const COPY = '[2/4] COPY app.txt /app.txt';
const RUN_CAT = '[3/4] RUN cat /app.txt > /copied';
/** Its name shows the value of VERSION (BuildKit's title expands the build args). */
const RUN_VERSION = (v = '1.2') => `[4/4] RUN echo "v=${v}" > /version`;

describe.skipIf(!isRoot && !isCI)('why a step missed the imported cache', () => {
  let baseDigest: string;

  beforeAll(async () => {
    baseDigest = await buildBase(join(work, 'base'), []);
    writeContext(app, { Dockerfile: DOCKERFILE, 'app.txt': 'version 1\n', 'other.txt': 'not copied\n' });
    // Runner A: everything runs, the cache is exported with every step's record.
    const first = tsbuildSync(['build', '--root', root, '--progress', 'plain', '--cache-to', `type=local,dest=${cache},mode=max`, app]);
    expectOk(first);
    expect(allReasons(first)).toEqual([]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('a changed copied file: the COPY names it, the RUNs after it name the COPY', () => {
    writeFileSync(join(app, 'app.txt'), 'version 2\n');
    writeFileSync(join(app, 'other.txt'), 'changed, but not copied\n');
    const { run, file } = build([]);
    expect(file('copied')).toBe('version 2\n');
    expect(reasonsOf(run, COPY)).toEqual(['files of the context changed: changed app.txt']);
    expect(reasonsOf(run, RUN_CAT)).toEqual([`its input step changed: ${COPY}`]);
    // Down the chain, the first cause: the COPY, not the RUN in between.
    expect(reasonsOf(run, RUN_VERSION())).toEqual([`its input step changed: ${COPY}`]);
    expect(allReasons(run)).toHaveLength(3);
  });

  it('json progress carries the same reasons, as data and as words', () => {
    writeFileSync(join(app, 'app.txt'), 'version 3\n');
    const { run, file } = build([], 'json');
    writeFileSync(join(app, 'app.txt'), 'version 1\n');
    expect(file('copied')).toBe('version 3\n');
    const events = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const names = new Map(events.filter((e) => e['kind'] === 'vertex').map((e) => [e['digest'], e['name']]));
    const misses = events.filter((e) => e['kind'] === 'miss').map((e) => ({ step: names.get(e['digest']), reasons: e['reasons'], text: e['text'] }));
    expect(misses).toEqual([
      { step: COPY, reasons: [{ kind: 'files', changed: ['app.txt'], added: [], removed: [], more: 0 }], text: ['files of the context changed: changed app.txt'] },
      { step: RUN_CAT, reasons: [{ kind: 'input', step: COPY }], text: [`its input step changed: ${COPY}`] },
      { step: RUN_VERSION(), reasons: [{ kind: 'input', step: COPY }], text: [`its input step changed: ${COPY}`] },
    ]);
  });

  it('a changed --build-arg: the RUN that has it in scope names it with its old and new value', () => {
    const { run, file } = build(['--build-arg', 'VERSION=1.3']);
    expect(file('version')).toBe('v=1.3\n');
    expect(file('copied')).toBe('version 1\n');
    expect(reasonsOf(run, RUN_VERSION('1.3'))).toEqual(['build arg VERSION changed ("1.2" → "1.3")']);
    // The steps before the ARG hit (the local index, or the import).
    expect(allReasons(run)).toHaveLength(1);
  });

  it('a base image rebuilt under the same tag: its step names both digests, the first step on it names the base', async () => {
    writeContext(join(work, 'base-2'), { 'extra.txt': 'extra\n' });
    const newDigest = await buildBase(join(work, 'base-2'), ['COPY extra.txt /extra.txt']);
    expect(newDigest).not.toBe(baseDigest);
    const { run, file } = build([]);
    expect(file('extra.txt')).toBe('extra\n');
    const from = `[internal] load image ${BASE}`;
    expect(reasonsOf(run, from)).toEqual([`base image ${BASE} changed (${baseDigest} → ${newDigest})`]);
    expect(reasonsOf(run, COPY)).toEqual([`its input step changed: ${from}`]);
    expect(reasonsOf(run, RUN_CAT)).toEqual([`its input step changed: ${from}`]);
    expect(reasonsOf(run, RUN_VERSION())).toEqual([`its input step changed: ${from}`]);
  });
});
