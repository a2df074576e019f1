// `--build-context NAME=VALUE` end to end, as buildx and BuildKit treat named contexts, and the
// extended attributes of context files, on a busybox base the test makes itself.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileXattrs } from '../snapshotter/index.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { mountsUnder, run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

// /var/tmp, not /tmp: tmpfs may refuse user.* attributes.
const work = mkdtempSync('/var/tmp/tsbuild-bctx-');
const root = join(work, 'root');

function dir(name: string, files: Record<string, string>): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(d, path, '..'), { recursive: true });
    writeFileSync(join(d, path), content);
  }
  return d;
}

function build(context: string, extra: string[] = []) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, context]);
}

function expectOk(r: { status: number | null; stderr: string }) {
  if (r.status !== 0) throw new Error(`build failed (${r.status}):\n${r.stderr}`);
}

/** Builds and writes the result's root filesystem to a fresh directory, which it returns. */
function buildRootfs(context: string, extra: string[] = []): { rootfs: string; stderr: string } {
  const rootfs = join(work, `out-${Math.random().toString(36).slice(2)}`);
  const r = build(context, [...extra, '-o', `type=local,dest=${rootfs}`]);
  expectOk(r);
  return { rootfs, stderr: r.stderr };
}

const ran = (stderr: string, word: string) => new RegExp(`^#\\d+ [\\d.]+ ${word}$`, 'm').test(stderr);

/** A file capability set of version 2 granting cap_net_bind_service, as setcap writes it. */
const NET_BIND_SERVICE = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describe.skipIf(!isRoot && !isCI)('--build-context', () => {
  beforeAll(async () => {
    const base = join(work, 'base');
    mkdirSync(base);
    await makeBusyboxRootfs(join(base, 'rootfs'));
    writeFileSync(join(base, 'rootfs', 'etc', 'base-marker'), 'busybox-test\n');
    writeFileSync(join(base, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV FROM_BASE=yes\nCMD ["/bin/sh"]\n');
    expectOk(build(base, ['-t', 'busybox:test']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('reads a named directory with COPY --from, RUN --mount from= and FROM, with its own .dockerignore', () => {
    const extra = dir('extra-dir', {
      'conf/app.conf': 'from the named context\n',
      'conf/skipped.tmp': 'ignored by the named context',
      'tool.sh': 'echo tool\n',
      '.dockerignore': '*/*.tmp\n',
    });
    chownSync(join(extra, 'conf/app.conf'), 4321, 4321);
    const main = dir('bctx-main', {
      Dockerfile: [
        'FROM busybox:test AS build',
        'RUN --mount=from=extra,target=/x cat /x/tool.sh > /from-mount.txt',
        'FROM extra AS raw',
        'FROM busybox:test',
        'COPY --from=extra /conf/ /etc/app/',
        'COPY --from=build /from-mount.txt /',
        'COPY --from=raw / /raw/',
        'COPY main.txt /',
        '',
      ].join('\n'),
      'main.txt': 'main\n',
      // The main context's .dockerignore never applies to a named one.
      '.dockerignore': 'tool.sh\n',
    });
    const { rootfs } = buildRootfs(main, ['--build-context', `extra=${extra}`]);
    expect(readFileSync(join(rootfs, 'etc/app/app.conf'), 'utf8')).toBe('from the named context\n');
    // BuildKit reads the .dockerignore at the root of a named directory (dockerui's named
    // contexts), so its patterns leave files out there too.
    expect(existsSync(join(rootfs, 'etc/app/skipped.tmp'))).toBe(false);
    expect(existsSync(join(rootfs, 'raw/conf/skipped.tmp'))).toBe(false);
    // Owners are reset to 0:0, as for the main context.
    expect(statSync(join(rootfs, 'etc/app/app.conf')).uid).toBe(0);
    expect(readFileSync(join(rootfs, 'from-mount.txt'), 'utf8')).toBe('echo tool\n');
    expect(readFileSync(join(rootfs, 'raw/tool.sh'), 'utf8')).toBe('echo tool\n');
    expect(readFileSync(join(rootfs, 'main.txt'), 'utf8')).toBe('main\n');
  });

  it('caches a named directory by the content of what is selected', () => {
    const extra = dir('cached-extra', { 'a.txt': 'one\n', 'unrelated.txt': 'x' });
    const main = dir('cached-main', {
      Dockerfile: 'FROM busybox:test\nCOPY --from=extra a.txt /a.txt\nRUN echo copied-run && cat /a.txt\n',
    });
    const flags = ['--build-context', `extra=${extra}`];
    const first = build(main, flags);
    expectOk(first);
    expect(ran(first.stderr, 'copied-run')).toBe(true);
    writeFileSync(join(extra, 'unrelated.txt'), 'changed');
    const unrelated = build(main, flags);
    expectOk(unrelated);
    expect(ran(unrelated.stderr, 'copied-run')).toBe(false);
    writeFileSync(join(extra, 'a.txt'), 'two\n');
    const changed = build(main, flags);
    expectOk(changed);
    expect(ran(changed.stderr, 'copied-run')).toBe(true);
    expect(changed.stderr).toContain('two');
  });

  it('replaces FROM and COPY --from images by name (docker-image://), however the reference is written', () => {
    const main = dir('image-main', {
      Dockerfile: [
        'FROM alpine AS a',
        'RUN cat /etc/base-marker > /a.txt',
        'FROM docker.io/library/alpine:latest',
        'COPY --from=a /a.txt /',
        'COPY --from=alpine /etc/base-marker /copied-marker',
        '',
      ].join('\n'),
    });
    const { rootfs } = buildRootfs(main, ['--build-context', 'alpine=docker-image://busybox:test']);
    expect(readFileSync(join(rootfs, 'a.txt'), 'utf8')).toBe('busybox-test\n');
    expect(readFileSync(join(rootfs, 'copied-marker'), 'utf8')).toBe('busybox-test\n');
  });

  it('replaces a whole stage of the same name: its instructions never run (BuildKit: the context wins)', () => {
    const replacement = dir('stage-replacement', { 'built.txt': 'prebuilt\n' });
    const main = dir('stage-main', {
      Dockerfile: [
        'FROM busybox:test AS builder',
        'RUN echo the-stage-ran && exit 1',
        'FROM busybox:test',
        'COPY --from=builder /built.txt /',
        '',
      ].join('\n'),
    });
    const { rootfs, stderr } = buildRootfs(main, ['--build-context', `builder=${replacement}`]);
    expect(readFileSync(join(rootfs, 'built.txt'), 'utf8')).toBe('prebuilt\n');
    expect(stderr).not.toContain('the-stage-ran');
  });

  it('reads an image from an OCI layout by tag or digest (oci-layout://), with its config and history', () => {
    const layout = join(work, 'layout');
    const src = dir('layout-src', { Dockerfile: 'FROM busybox:test\nENV IN_LAYOUT=1\nRUN echo layered > /layered.txt\n' });
    expectOk(build(src, ['-o', `type=oci,dest=${layout},tar=false,name=layout:v1`]));
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const main = dir('layout-main', { Dockerfile: 'FROM base\nRUN echo "$IN_LAYOUT" > /env.txt\n' });
    for (const value of [`oci-layout://${layout}:v1`, `oci-layout://${layout}@${index.manifests[0]!.digest}`]) {
      const out = join(work, `layout-out-${Math.random().toString(36).slice(2)}.tar`);
      expectOk(build(main, ['--build-context', `base=${value}`, '-o', `type=oci,dest=${out},name=from-layout:1`]));
      const bundle = join(work, `layout-bundle-${Math.random().toString(36).slice(2)}`);
      mkdirSync(bundle);
      expect(run('tar', ['-xf', out, '-C', bundle]).status).toBe(0);
      const blob = (d: string) => JSON.parse(readFileSync(join(bundle, 'blobs/sha256', d.slice(7)), 'utf8'));
      const manifest = blob(JSON.parse(readFileSync(join(bundle, 'index.json'), 'utf8')).manifests[0].digest);
      const config = blob(manifest.config.digest);
      expect(config.config.Env).toContain('IN_LAYOUT=1');
      expect((config.history as { created_by: string }[]).map((h) => h.created_by)).toContain('RUN /bin/sh -c echo layered > /layered.txt # buildkit');
      expect(manifest.layers).toHaveLength(3);
    }
  });

  it('gives a directory used as a base the history entry BuildKit appends for it', () => {
    const extra = dir('history-extra', { 'f.txt': 'f' });
    const main = dir('history-main', { Dockerfile: 'FROM extra\nCOPY main.txt /\n', 'main.txt': 'm' });
    const out = join(work, 'history.oci.tar');
    expectOk(build(main, ['--build-context', `extra=${extra}`, '-o', `type=oci,dest=${out},name=h:1`]));
    const layout = join(work, 'history-layout');
    mkdirSync(layout);
    expect(run('tar', ['-xf', out, '-C', layout]).status).toBe(0);
    const blob = (d: string) => JSON.parse(readFileSync(join(layout, 'blobs/sha256', d.slice(7)), 'utf8'));
    const manifest = blob(JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')).manifests[0].digest);
    const config = blob(manifest.config.digest);
    expect(manifest.layers).toHaveLength(2);
    expect((config.history as { created_by: string; comment: string }[]).map((h) => [h.created_by, h.comment])).toEqual([
      ['COPY main.txt / # buildkit', 'buildkit.dockerfile.v0'],
      ['local source for extra', 'buildkit.exporter.image.v0'],
    ]);
  });

  it('rejects malformed values and missing directories as usage errors (exit 2), with a hint', () => {
    const main = dir('bad-main', { Dockerfile: 'FROM busybox:test\n' });
    const cases: [string, string][] = [
      ['no-equals-sign', 'expected NAME=VALUE'],
      ['=../x', 'expected NAME=VALUE'],
      ['Upper=../x', 'invalid --build-context name "Upper"'],
      [`missing=${join(work, 'does-not-exist')}`, 'is not a directory'],
      ['img=docker-image://Not_Valid', 'is not an image reference'],
      ['lay=oci-layout://', 'needs a path'],
      ['x=foo://bar', 'unknown kind of context'],
    ];
    for (const [value, message] of cases) {
      const r = build(main, ['--build-context', value]);
      expect(r.status, value).toBe(2);
      expect(r.stderr, value).toContain(message);
      expect(r.stderr, value).toMatch(/--build-context NAME=DIR|write|name is written/);
    }
  });

  it('keeps user.* attributes, drops security.capability as BuildKit does, and keys the cache on them', async () => {
    const ctx = dir('xattr-ctx', {
      Dockerfile: 'FROM busybox:test\nCOPY tool data/ /opt/\nRUN echo xattr-run\n',
      tool: 'binary',
      'data/note.txt': 'note',
    });
    const extra = dir('xattr-extra', { 'named.txt': 'named' });
    chmodSync(join(ctx, 'tool'), 0o755);
    await fileXattrs.set(join(ctx, 'tool'), 'user.foo', Buffer.from('bar'));
    await fileXattrs.set(join(ctx, 'tool'), 'security.capability', NET_BIND_SERVICE);
    await fileXattrs.set(join(extra, 'named.txt'), 'user.named', Buffer.from('n'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:test\nCOPY tool data/ /opt/\nCOPY --from=extra named.txt /opt/\nRUN echo xattr-run\n');
    const flags = ['--build-context', `extra=${extra}`];
    const first = buildRootfs(ctx, flags);
    expect(ran(first.stderr, 'xattr-run')).toBe(true);
    const tool = join(first.rootfs, 'opt/tool');
    expect(Buffer.from(await fileXattrs.get(tool, 'user.foo')).toString()).toBe('bar');
    // BuildKit's context transfer sets the attributes, then chowns the file to 0:0; the kernel
    // drops file capabilities on chown, so a context file never brings its capabilities along.
    expect(await fileXattrs.list(tool)).not.toContain('security.capability');
    expect(Buffer.from(await fileXattrs.get(join(first.rootfs, 'opt/named.txt'), 'user.named')).toString()).toBe('n');

    // Changing only an attribute of a selected file changes the step's key.
    await fileXattrs.set(join(ctx, 'tool'), 'user.foo', Buffer.from('baz'));
    const second = buildRootfs(ctx, flags);
    expect(ran(second.stderr, 'xattr-run')).toBe(true);
    expect(Buffer.from(await fileXattrs.get(join(second.rootfs, 'opt/tool'), 'user.foo')).toString()).toBe('baz');
    const again = buildRootfs(ctx, flags);
    expect(ran(again.stderr, 'xattr-run')).toBe(false);
  });
});
