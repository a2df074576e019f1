/**
 * Property tests: whatever a layer tar says — `..`, absolute names, symlinks to `/` or out of
 * the layer followed by entries through them, hard links out, whiteouts of odd names — applyTar
 * creates and changes nothing outside its target. A sentinel directory beside the target, and
 * reachable through every trick by absolute or relative paths, must stay exactly as it was.
 * The archives are written by tar-stream, not by our encoder.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTar } from './apply.js';
import { isSnapshotError } from './errors.js';

import { isCI, isRoot } from '../test/support/env.js';

let sandbox: string;
let sentinel: string;
let target: string;
let snapshotBefore: string;

/** Every path under `dir` with its type, mode, owner, size, link target or content, and link count. */
async function describeTree(dir: string): Promise<string> {
  const lines: string[] = [];
  const visit = async (path: string, rel: string): Promise<void> => {
    const st = await lstat(path);
    let detail = '';
    if (st.isSymbolicLink()) detail = `-> ${await readlink(path)}`;
    else if (st.isFile()) detail = (await readFile(path)).toString('hex');
    lines.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} n${st.nlink} ${st.mtimeMs} ${detail}`);
    if (st.isDirectory()) for (const n of (await readdir(path)).sort()) await visit(join(path, n), `${rel}/${n}`);
  };
  await visit(dir, '.');
  return lines.join('\n');
}

/** The sandbox's names (the target removed) and the sentinel's whole tree. */
async function outsideTarget(): Promise<string> {
  const names = (await readdir(sandbox)).filter((n) => n !== 'target').sort();
  return `${names.join(',')}\n${await describeTree(sentinel)}`;
}

/** A fresh sentinel and an empty target, identical for every run (so shrinking sees clean state). */
async function resetSandbox(): Promise<void> {
  for (const n of await readdir(sandbox)) await rm(join(sandbox, n), { recursive: true, force: true });
  await mkdir(join(sentinel, 'etc'), { recursive: true });
  await writeFile(join(sentinel, 'etc', 'passwd'), 'root:x:0:0\n');
  await writeFile(join(sentinel, 'keep'), 'keep');
  for (const p of [join(sentinel, 'etc', 'passwd'), join(sentinel, 'keep'), join(sentinel, 'etc'), sentinel]) {
    await utimes(p, 1_000_000, 1_000_000);
  }
  await mkdir(target);
}

beforeAll(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'tsbuild-safety-'));
  sentinel = join(sandbox, 'sentinel');
  target = join(sandbox, 'target');
  await resetSandbox();
  snapshotBefore = await outsideTarget();
});

afterAll(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

type Entry =
  | { kind: 'file'; name: string; body: string }
  | { kind: 'dir'; name: string }
  | { kind: 'symlink'; name: string; linkname: string }
  | { kind: 'link'; name: string; linkname: string }
  | { kind: 'whiteout'; name: string }
  | { kind: 'opaque'; name: string };

function entriesArb(): fc.Arbitrary<Entry[]> {
  const sentinelRel = sentinel.slice(1); // the sentinel as seen through a symlink to "/"
  const component = fc.constantFrom('a', 'b', 'etc', '..', '.', '', 'passwd', 'keep', 'sentinel', '.wh.a', '.wh...');
  const plain = fc
    .tuple(fc.constantFrom('', '/', './', '../', '/../'), fc.array(component, { minLength: 1, maxLength: 4 }))
    .map(([prefix, parts]) => prefix + parts.join('/'));
  const tricky = fc.constantFrom(
    `a/${sentinelRel}/evil`,
    `a/${sentinelRel}/etc/passwd`,
    'a/etc/passwd',
    'b/keep',
    'b/evil',
    'a/../b/evil',
    `${sentinel}/evil`,
    '../sentinel/evil',
    'sentinel/keep',
  );
  const name = fc.oneof(plain, tricky);
  const linkTarget = fc.constantFrom(
    '/',
    sentinel,
    `${sentinel}/keep`,
    '../sentinel',
    '../sentinel/keep',
    '../../..',
    '.',
    'a',
    'a/keep',
    'b/keep',
    'sentinel/keep',
    'etc/passwd',
  );
  const entry: fc.Arbitrary<Entry> = fc.oneof(
    fc.record({ kind: fc.constant('file' as const), name, body: fc.string({ maxLength: 8 }) }),
    fc.record({ kind: fc.constant('dir' as const), name }),
    fc.record({ kind: fc.constant('symlink' as const), name, linkname: linkTarget }),
    fc.record({ kind: fc.constant('link' as const), name, linkname: fc.oneof(linkTarget, name) }),
    fc.record({ kind: fc.constant('whiteout' as const), name: component.map((c) => `a/.wh.${c}`) }),
    fc.record({ kind: fc.constant('opaque' as const), name: fc.oneof(name, fc.constant('a'), fc.constant('b')) }),
  );
  // A symlink and then entries through it: the shape of every real escape, drawn often.
  const through = fc
    .tuple(
      fc.constantFrom('a', 'b', 'x/y'),
      linkTarget,
      fc.array(
        fc.tuple(
          fc.constantFrom(`${sentinel.slice(1)}/evil`, `${sentinel.slice(1)}/etc/passwd`, 'evil', 'keep', 'etc/passwd', 'sentinel/keep'),
          fc.constantFrom('file' as const, 'dir' as const, 'link' as const, 'whiteout' as const, 'opaque' as const),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    )
    .map(([link, to, uses]): Entry[] => [
      { kind: 'symlink', name: link, linkname: to },
      ...uses.map(([rest, kind]): Entry => {
        const path = `${link}/${rest}`;
        switch (kind) {
          case 'file':
            return { kind, name: path, body: 'pwned' };
          case 'link':
            return { kind, name: 'innocent', linkname: path };
          case 'whiteout':
            return { kind, name: path.replace(/[^/]*$/, (b) => `.wh.${b}`) };
          default:
            return { kind, name: path };
        }
      }),
    ]);
  return fc
    .array(fc.oneof(entry.map((e) => [e]), through), { minLength: 1, maxLength: 6 })
    .map((groups) => groups.flat());
}

async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const p = pack();
  const mtime = new Date(1_500_000_000_000);
  for (const e of entries) {
    switch (e.kind) {
      case 'file':
        p.entry({ name: e.name, mtime, mode: 0o644 }, e.body);
        break;
      case 'dir':
        p.entry({ name: e.name, type: 'directory', mtime, mode: 0o755 });
        break;
      case 'symlink':
        p.entry({ name: e.name, type: 'symlink', linkname: e.linkname, mtime });
        break;
      case 'link':
        p.entry({ name: e.name, type: 'link', linkname: e.linkname, mtime });
        break;
      case 'whiteout':
        p.entry({ name: e.name, mtime }, '');
        break;
      case 'opaque':
        p.entry({ name: `${e.name}/.wh..wh..opq`, mtime }, '');
        break;
    }
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

describe.skipIf(!isRoot && !isCI)('applyTar safety', () => {
  it('never creates or changes anything outside the target', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb(), async (entries) => {
        await resetSandbox();
        try {
          await applyTar(Readable.from([await tarOf(entries)]), target);
        } catch (e) {
          // Refusing is fine; failing any other way means an unchecked path.
          if (!isSnapshotError(e)) throw e;
        }
        // Before the target goes: a hard link into the sentinel shows as a link count of 2.
        expect(await outsideTarget()).toBe(snapshotBefore);
      }),
      { numRuns: 400 },
    );
  });

  it('the classic trick: a symlink to / then a file through it', async () => {
    await rm(target, { recursive: true, force: true });
    await mkdir(target);
    const tar = await tarOf([
      { kind: 'symlink', name: 'a', linkname: '/' },
      { kind: 'file', name: `a${sentinel}/etc/passwd`, body: 'pwned' },
    ]);
    await expect(applyTar(Readable.from([tar]), target)).rejects.toMatchObject({ reason: 'UNSAFE_ENTRY' });
    expect(await readFile(join(sentinel, 'etc', 'passwd'), 'utf8')).toBe('root:x:0:0\n');
  });
});
