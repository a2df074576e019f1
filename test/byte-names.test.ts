// File names that are not UTF-8, end to end, as BuildKit handles them: a COPY of a context
// holding them and a RUN making them put their exact bytes in the layer tars; a build on that
// image unpacked from an OCI layout finds them by those bytes; an unchanged context is a cache
// hit; the root filesystem outputs (type=local, type=tar) hold them by those bytes. The layers
// and the rootfs tar are read by GNU tar, not by tsbuild's own reader.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder, run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { rawLines, rawNames, rawPath, rawPathIn } from './support/raw-path.js';
import { busyboxBaseContext, expectOk } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-e2e-bytes-'));
const root = join(work, 'root');

function build(dir: string, extra: string[] = [], at = root) {
  return tsbuildSync(['build', '--root', at, '--progress', 'plain', ...extra, dir]);
}

/** The OCI layout tar `ociTar` extracted into a directory of its own; that directory. */
function extractLayout(ociTar: string): string {
  const layout = mkdtempSync(join(work, 'layout-'));
  expect(run('tar', ['-xf', ociTar, '-C', layout]).status).toBe(0);
  return layout;
}

/** The layer blobs of the only image of an OCI layout, uncompressed, in order. */
function layers(layout: string): Buffer[] {
  const blob = (digest: string): Buffer => readFileSync(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { layers: { digest: string; mediaType: string }[] };
  return manifest.layers.map((l) => (l.mediaType.endsWith('gzip') ? gunzipSync(blob(l.digest)) : blob(l.digest)));
}

/** The entry names of a layer tar as GNU tar lists them, byte for byte. */
function tarNames(tar: Buffer): Buffer[] {
  const r = spawnSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: tar });
  expect(r.status).toBe(0);
  return rawLines(r.stdout);
}

/** A layer tar extracted by GNU tar into a directory of its own; that directory. */
function extractLayer(tar: Buffer): string {
  const dir = mkdtempSync(join(work, 'layer-'));
  const r = spawnSync('tar', ['-xf', '-', '-C', dir], { input: tar });
  expect(r.status).toBe(0);
  return dir;
}

describe.skipIf(!isRoot && !isCI)('names that are not UTF-8, end to end', () => {
  beforeAll(async () => {
    expectOk(build(await busyboxBaseContext(join(work, 'base')), ['-t', 'busybox:test']));
  });
  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('copies and creates them with their exact bytes, in the layer tars and in a build on the image', () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox:test',
        'COPY . /ctx',
        `RUN cat "/ctx/$(printf 'b\\377')" "/ctx/$(printf 'd\\376')/inside" > /seen && touch "/$(printf 'r\\377')" && mkdir "/$(printf 'n\\376')" && printf made > "/$(printf 'n\\376')/f"`,
        '',
      ].join('\n'),
    );
    writeFileSync(rawPath(ctx, '/b', [0xff]), 'raw;');
    mkdirSync(rawPath(ctx, '/d', [0xfe]));
    writeFileSync(rawPath(ctx, '/d', [0xfe], '/inside'), 'inside');
    const out = join(work, 'bytes.oci.tar');
    expectOk(build(ctx, ['-o', `type=oci,dest=${out}`]));

    const layout = extractLayout(out);
    const [, copied, ran] = layers(layout);
    expect(tarNames(copied!)).toEqual([rawPath('ctx/'), rawPath('ctx/Dockerfile'), rawPath('ctx/b', [0xff]), rawPath('ctx/d', [0xfe], '/'), rawPath('ctx/d', [0xfe], '/inside')]);
    expect(tarNames(ran!)).toEqual([rawPath('n', [0xfe], '/'), rawPath('n', [0xfe], '/f'), rawPath('r', [0xff]), rawPath('seen')]);
    const c = extractLayer(copied!);
    expect(readFileSync(rawPath(c, '/ctx/b', [0xff]), 'utf8')).toBe('raw;');
    expect(readFileSync(rawPath(c, '/ctx/d', [0xfe], '/inside'), 'utf8')).toBe('inside');
    const r = extractLayer(ran!);
    expect(readFileSync(join(r, 'seen'), 'utf8')).toBe('raw;inside');
    expect(readFileSync(rawPath(r, '/n', [0xfe], '/f'), 'utf8')).toBe('made');
    expect(readFileSync(rawPath(r, '/r', [0xff]), 'utf8')).toBe('');

    // The same context again: its checksum, names and all, is a cache hit.
    const again = build(ctx);
    expectOk(again);
    expect(again.stderr.match(/CACHED/g)?.length).toBe(3);

    // The image unpacked from its OCI layout into a new state directory (every layer applied
    // anew, none reused) has them by their bytes.
    const next = join(work, 'next');
    mkdirSync(next);
    writeFileSync(
      join(next, 'Dockerfile'),
      `FROM bytes\nRUN cat "/ctx/$(printf 'b\\377')" "/$(printf 'n\\376')/f" > /again && ls /ctx | grep -c . > /count\n`,
    );
    const nextOut = join(work, 'next.oci.tar');
    const fresh = build(next, ['--build-context', `bytes=oci-layout://${layout}`, '-o', `type=oci,dest=${nextOut}`], join(work, 'root2'));
    expectOk(fresh);
    expect(fresh.stderr).toContain('unpacked layer 3/3');
    const last = layers(extractLayout(nextOut)).at(-1)!;
    const l = extractLayer(last);
    expect(readFileSync(join(l, 'again'), 'utf8')).toBe('raw;made');
    expect(readFileSync(join(l, 'count'), 'utf8')).toBe('3\n');
    expect(readdirSync(l).sort()).toEqual(['again', 'count']);
  });

  it('writes them with their exact bytes to the type=local directory and the type=tar file', () => {
    const ctx = join(work, 'ctx-rootfs');
    mkdirSync(ctx);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      ['FROM busybox:test', 'COPY . /ctx', `RUN ln -s "$(printf 'b\\377')" "/ctx/$(printf 'l\\375')" && printf run > "/$(printf 'r\\377')"`, ''].join('\n'),
    );
    writeFileSync(rawPath(ctx, '/b', [0xff]), 'raw;');
    mkdirSync(rawPath(ctx, '/d', [0xfe]));
    writeFileSync(rawPath(ctx, '/d', [0xfe], '/inside'), 'inside');
    const local = join(work, 'rootfs-dir');
    const tarFile = join(work, 'rootfs.tar');
    expectOk(build(ctx, ['-o', `type=local,dest=${local}`, '-o', `type=tar,dest=${tarFile}`]));

    /** The files the build made, under `root`, checked by the bytes of their names. */
    const check = (root: string): void => {
      expect(rawNames(join(root, 'ctx'))).toEqual([rawPath('Dockerfile'), rawPath('b', [0xff]), rawPath('d', [0xfe]), rawPath('l', [0xfd])]);
      expect(rawNames(rawPathIn(root, 'ctx/d', [0xfe]))).toEqual([rawPath('inside')]);
      expect(rawNames(root)).toContainEqual(rawPath('r', [0xff]));
      expect(readFileSync(rawPathIn(root, 'ctx/b', [0xff]), 'utf8')).toBe('raw;');
      expect(readFileSync(rawPathIn(root, 'ctx/d', [0xfe], '/inside'), 'utf8')).toBe('inside');
      expect(readlinkSync(rawPathIn(root, 'ctx/l', [0xfd]), { encoding: 'buffer' })).toEqual(rawPath('b', [0xff]));
      expect(readFileSync(rawPathIn(root, 'r', [0xff]), 'utf8')).toBe('run');
    };
    check(local);

    const tar = readFileSync(tarFile);
    const ours = tarNames(tar).filter((n) => n.subarray(0, 4).equals(Buffer.from('ctx/')) || n.equals(rawPath('r', [0xff])));
    expect(ours).toEqual([
      rawPath('ctx/'), rawPath('ctx/Dockerfile'), rawPath('ctx/b', [0xff]), rawPath('ctx/d', [0xfe], '/'), rawPath('ctx/d', [0xfe], '/inside'),
      rawPath('ctx/l', [0xfd]), rawPath('r', [0xff]),
    ]);
    check(extractLayer(tar));
  });
});
