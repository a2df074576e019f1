// Building real Dockerfiles end to end with the `tsbuild` CLI, as root, on a busybox base the
// test makes itself, and checking the results with tools nobody here wrote: umoci, runc,
// skopeo.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { mountsUnder, run, tsbuildAsync, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { runBundle, umociUnpack } from './support/oci.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-e2e-'));
const root = join(work, 'root');

const context = (name: string, files: Record<string, string>) => writeContext(join(work, name), files);

function build(dir: string, extra: string[] = []) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
}

/** Unpack an OCI layout tar with umoci; returns the bundle directory. */
function unpack(ociTar: string, tag: string): string {
  const layout = join(work, `layout-${Math.random().toString(36).slice(2)}`);
  mkdirSync(layout);
  expect(run('tar', ['-xf', ociTar, '-C', layout]).status).toBe(0);
  return umociUnpack(layout, tag, `${layout}-bundle`);
}

/** The image config blob of an OCI layout tar (skopeo must accept the archive too). */
function ociConfig(ociTar: string): { config: Record<string, unknown>; history: { created_by: string; empty_layer?: boolean }[]; rootfs: { diff_ids: string[] } } {
  expect(run('skopeo', ['inspect', `oci-archive:${ociTar}`]).status).toBe(0);
  const layout = join(work, `cfg-${Math.random().toString(36).slice(2)}`);
  mkdirSync(layout);
  run('tar', ['-xf', ociTar, '-C', layout]);
  const blob = (d: string): unknown => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', d.slice('sha256:'.length)), 'utf8'));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string } };
  return blob(manifest.config.digest) as never;
}

describe.skipIf(!isRoot && !isCI)('tsbuild build, end to end', () => {
  beforeAll(async () => {
    const base = await busyboxBaseContext(join(work, 'base'), ['CMD ["/bin/sh"]']);
    mkdirSync(join(base, 'rootfs', 'opt', 'old'), { recursive: true });
    writeFileSync(join(base, 'rootfs', 'opt', 'old', 'a.txt'), 'old');
    writeFileSync(join(base, 'rootfs', 'etc', 'doomed'), 'bye');
    expectOk(build(base, ['-t', 'busybox:test']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('builds a multi-stage Dockerfile whose image runc runs', () => {
    const dir = context('multi', {
      Dockerfile: [
        'FROM busybox:test AS build',
        'WORKDIR /src',
        'COPY greeting.txt .',
        'RUN echo "built: $(cat greeting.txt)" > /src/out.txt',
        'FROM busybox:test',
        'COPY --from=build /src/out.txt /srv/',
        'CMD ["cat", "/srv/out.txt"]',
        '',
      ].join('\n'),
      'greeting.txt': 'hello\n',
    });
    const out = join(work, 'multi.oci.tar');
    expectOk(build(dir, ['-t', 'multi:test', '-o', `type=oci,dest=${out}`]));
    expect(runBundle(unpack(out, 'test'))).toBe('built: hello\n');
  });

  it('produces the file tree the Dockerfile describes: modes, owners, links, deletions, opaque dirs', () => {
    const dir = context('tree', {
      Dockerfile: [
        'FROM busybox:test',
        'COPY --chown=app:extra --chmod=0640 secret.txt /data/secret.txt',
        'RUN ln -s /data/secret.txt /link && rm /etc/doomed && rm -rf /opt/old && mkdir /opt/old && echo new > /opt/old/b.txt',
        'RUN mkdir -p /x && echo 1 > /x/f && ln /x/f /x/hard',
        '',
      ].join('\n'),
      'secret.txt': 's3cret',
    });
    const out = join(work, 'tree.oci.tar');
    expectOk(build(dir, ['-o', `type=oci,dest=${out},name=tree:latest`]));
    const rootfs = join(unpack(out, 'latest'), 'rootfs');
    const secret = statSync(join(rootfs, 'data/secret.txt'));
    expect(secret.mode & 0o777).toBe(0o640);
    expect([secret.uid, secret.gid]).toEqual([1000, 2000]);
    expect(readlinkSync(join(rootfs, 'link'))).toBe('/data/secret.txt');
    expect(existsSync(join(rootfs, 'etc/doomed'))).toBe(false);
    expect(existsSync(join(rootfs, 'opt/old/a.txt'))).toBe(false);
    expect(readFileSync(join(rootfs, 'opt/old/b.txt'), 'utf8')).toBe('new\n');
    expect(statSync(join(rootfs, 'x/f')).ino).toBe(statSync(join(rootfs, 'x/hard')).ino);
    // Nothing the runner mounted leaked into a layer.
    for (const p of ['proc', 'sys', 'dev', 'etc/hosts', 'etc/resolv.conf', 'etc/hostname']) {
      expect(existsSync(join(rootfs, p)), p).toBe(false);
    }
  });

  it('writes the image config and history as BuildKit does', () => {
    const dir = context('config', {
      Dockerfile: [
        'FROM busybox:test',
        'ENV A=1 B="two words"',
        'ARG V=3',
        'WORKDIR /app',
        'RUN echo $V > v.txt',
        'LABEL l1=x',
        'EXPOSE 80 90/udp',
        'USER app:app',
        'VOLUME /data',
        'STOPSIGNAL SIGTERM',
        'HEALTHCHECK --interval=5s CMD echo ok',
        'ONBUILD RUN echo hi',
        'SHELL ["/bin/sh", "-ec"]',
        'ENTRYPOINT ["/bin/sh"]',
        'CMD echo hello',
        '',
      ].join('\n'),
    });
    const out = join(work, 'config.oci.tar');
    expectOk(build(dir, ['-o', `type=oci,dest=${out}`]));
    const img = ociConfig(out);
    expect(img.config).toEqual({
      User: 'app:app',
      ExposedPorts: { '80/tcp': {}, '90/udp': {} },
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words'],
      Entrypoint: ['/bin/sh'],
      Cmd: ['/bin/sh', '-ec', 'echo hello'],
      Volumes: { '/data': {} },
      WorkingDir: '/app',
      Labels: { l1: 'x' },
      StopSignal: 'SIGTERM',
      OnBuild: ['RUN echo hi'],
      Shell: ['/bin/sh', '-ec'],
      Healthcheck: { Test: ['CMD-SHELL', 'echo ok'], Interval: 5_000_000_000 },
      ArgsEscaped: true,
    });
    expect(img.history.map((h) => [h.created_by, h.empty_layer === true])).toEqual([
      ['COPY rootfs/ / # buildkit', false],
      ['CMD ["/bin/sh"]', true],
      ['ENV A=1 B=two words', true],
      ['ARG V=3', true],
      ['WORKDIR /app', false],
      ['RUN |1 V=3 /bin/sh -c echo $V > v.txt # buildkit', false],
      ['LABEL l1=x', true],
      ['EXPOSE [80/tcp 90/udp]', true],
      ['USER app:app', true],
      ['VOLUME [/data]', true],
      ['STOPSIGNAL SIGTERM', true],
      ['HEALTHCHECK {Test:[CMD-SHELL echo ok] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}', true],
      ['SHELL [/bin/sh -ec]', true],
      ['ENTRYPOINT ["/bin/sh"]', true],
      ['CMD ["/bin/sh" "-ec" "echo hello"]', true],
    ]);
    expect(img.rootfs.diff_ids).toHaveLength(3);
  });

  it('rebuilds from cache: unchanged → all CACHED; an unrelated file → nothing runs; a copied file → only what follows', () => {
    const dir = context('cache', {
      Dockerfile: 'FROM busybox:test\nRUN echo first-run\nCOPY a.txt /a.txt\nRUN echo second-run && cat /a.txt\n',
      'a.txt': 'one\n',
      'unrelated.txt': 'x',
    });
    const iid = (n: string) => join(dir, `..`, `cache-${n}.iid`);
    const first = build(dir, ['-t', 'cache:test', '--iidfile', iid('first')]);
    expectOk(first);
    // RUN output lines are `#N <seconds> text`; step names also hold the words.
    const ran = (r: { stderr: string }, word: string) => new RegExp(`^#\\d+ [\\d.]+ ${word}$`, 'm').test(r.stderr);
    expect(ran(first, 'first-run')).toBe(true);
    const again = build(dir, ['-t', 'cache:test', '--iidfile', iid('again')]);
    expectOk(again);
    // As with BuildKit, history times are those of the cached layers: the same image again.
    expect(readFileSync(iid('again'), 'utf8')).toBe(readFileSync(iid('first'), 'utf8'));
    expect(ran(again, 'first-run') || ran(again, 'second-run')).toBe(false);
    expect(again.stderr.match(/CACHED/g)?.length).toBe(4);
    writeFileSync(join(dir, 'unrelated.txt'), 'changed');
    const unrelated = build(dir, ['-t', 'cache:test']);
    expect(ran(unrelated, 'first-run') || ran(unrelated, 'second-run')).toBe(false);
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    const changed = build(dir, ['-t', 'cache:test']);
    expectOk(changed);
    expect(ran(changed, 'first-run')).toBe(false);
    expect(ran(changed, 'second-run')).toBe(true);
    expect(changed.stderr).toContain('two');
  });

  it('reports a failing RUN with its step, command, exit code and output', () => {
    const dir = context('fail', { Dockerfile: 'FROM busybox:test\nRUN echo about to fail && exit 3\n' });
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Dockerfile:2:1');
    expect(r.stderr).toContain('process "/bin/sh -c echo about to fail && exit 3" did not complete successfully: exit code: 3');
    expect(r.stderr).toContain('about to fail');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('never copies from outside the context', () => {
    writeFileSync(join(work, 'outside.txt'), 'secret');
    const dir = context('escape', { Dockerfile: 'FROM busybox:test\nCOPY ../outside.txt /x\n' });
    symlinkSync(join(work, 'outside.txt'), join(dir, 'link'));
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('not found');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:test\nCOPY link /copied\nRUN test ! -e /copied || cat /copied\n');
    const out = join(work, 'escape.oci.tar');
    const viaLink = build(dir, ['-o', `type=oci,dest=${out}`]);
    expect(viaLink.stderr).not.toContain('secret');
  });

  it('writes docker archives, root filesystems and tars', () => {
    const dir = context('outputs', { Dockerfile: 'FROM busybox:test\nRUN echo made > /made.txt\n' });
    const docker = join(work, 'img.docker.tar');
    const local = join(work, 'rootfs-out');
    const tar = join(work, 'rootfs.tar');
    const meta = join(work, 'meta.json');
    expectOk(build(dir, ['-o', `type=docker,dest=${docker},name=outputs:test`, '-o', `type=local,dest=${local}`, '-o', `type=tar,dest=${tar}`, '--metadata-file', meta]));
    const inspect = run('skopeo', ['inspect', '--raw', `docker-archive:${docker}`]);
    expect(inspect.status).toBe(0);
    expect(readFileSync(join(local, 'made.txt'), 'utf8')).toBe('made\n');
    expect(run('tar', ['-tf', tar]).stdout).toMatch(/made\.txt/);
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>;
    expect(m['containerimage.config.digest']).toBe((JSON.parse(inspect.stdout) as { config: { digest: string } }).config.digest);
    // The docker output reports the name as BuildKit's does: normalised.
    expect(m['image.name']).toBe('docker.io/library/outputs:test');
    // buildx refuses an image ID file beside rootfs outputs, before building.
    const refused = build(dir, ['-o', `type=local,dest=${join(work, 'never')}`, '--iidfile', join(work, 'iid')]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('local and tar outputs are incompatible with --iidfile');
  });

  it('runs ONBUILD triggers when the image is used as a base, and resolves USER names and HOME', () => {
    const parent = context('onbuild-parent', { Dockerfile: 'FROM busybox:test\nONBUILD RUN echo triggered > /t\nONBUILD COPY marker.txt /marker.txt\n' });
    expectOk(build(parent, ['-t', 'onbuild:parent']));
    const child = context('onbuild-child', {
      Dockerfile: 'FROM onbuild:parent\nUSER app\nRUN id -u > /tmp/uid && id -G > /tmp/groups && echo $HOME > /tmp/home\n',
      'marker.txt': 'from the child context\n',
    });
    const out = join(work, 'onbuild.oci.tar');
    expectOk(build(child, ['-o', `type=oci,dest=${out},name=onbuild:child`]));
    const rootfs = join(unpack(out, 'child'), 'rootfs');
    expect(readFileSync(join(rootfs, 't'), 'utf8')).toBe('triggered\n');
    expect(readFileSync(join(rootfs, 'marker.txt'), 'utf8')).toBe('from the child context\n');
    expect(readFileSync(join(rootfs, 'tmp/uid'), 'utf8')).toBe('1000\n');
    expect(readFileSync(join(rootfs, 'tmp/groups'), 'utf8').trim().split(' ').sort()).toEqual(['1000', '2000']);
    // HOME comes from the user's passwd entry when the image sets none, as under runc.
    expect(readFileSync(join(rootfs, 'tmp/home'), 'utf8')).toBe('/home/app\n');
    const cfg = ociConfig(out);
    expect(cfg.config.OnBuild).toBeUndefined();
  });

  it('honours .dockerignore, --target, --build-arg, ADD of a local archive and RUN --network=none', () => {
    const dir = context('everyday', {
      Dockerfile: [
        'ARG FLAVOUR=plain',
        'FROM busybox:test AS base',
        'ARG FLAVOUR',
        'COPY . /ctx/',
        'ADD bundle.tar.gz /opt/',
        'RUN --network=none ip -o link | cut -d: -f2 | tr -d " " > /links && echo $FLAVOUR > /flavour',
        'FROM base AS never',
        'RUN exit 1',
        '',
      ].join('\n'),
      '.dockerignore': '*.log\nsecrets/\n!secrets/public.txt\n',
      'keep.txt': 'k',
      'debug.log': 'x',
      'secrets/private.key': 'p',
      'secrets/public.txt': 'pub',
    });
    const payload = join(work, 'payload');
    mkdirSync(join(payload, 'tool'), { recursive: true });
    writeFileSync(join(payload, 'tool', 'run.sh'), 'echo tool\n');
    expect(run('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', payload, 'tool']).status).toBe(0);
    const out = join(work, 'everyday.oci.tar');
    expectOk(build(dir, ['--target', 'base', '--build-arg', 'FLAVOUR=spicy', '-o', `type=oci,dest=${out},name=everyday:latest`]));
    const rootfs = join(unpack(out, 'latest'), 'rootfs');
    expect(existsSync(join(rootfs, 'ctx/keep.txt'))).toBe(true);
    expect(existsSync(join(rootfs, 'ctx/debug.log'))).toBe(false);
    expect(existsSync(join(rootfs, 'ctx/secrets/private.key'))).toBe(false);
    expect(readFileSync(join(rootfs, 'ctx/secrets/public.txt'), 'utf8')).toBe('pub');
    expect(readFileSync(join(rootfs, 'opt/tool/run.sh'), 'utf8')).toBe('echo tool\n');
    expect(readFileSync(join(rootfs, 'links'), 'utf8')).toBe('lo\n');
    expect(readFileSync(join(rootfs, 'flavour'), 'utf8')).toBe('spicy\n');
  });

  it('survives kill -9 in the middle of a file step', async () => {
    const dir = context('killed-copy', { Dockerfile: 'FROM busybox:test\nCOPY big /big\n' });
    writeFileSync(join(dir, 'big'), Buffer.alloc(512 * 1024 * 1024, 7));
    const b = tsbuildAsync(['build', '--root', root, '--progress', 'plain', dir]);
    await new Promise<void>((resolve) => {
      b.child.stderr!.on('data', (d: Buffer) => {
        if (d.toString().includes('COPY big')) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 150));
    b.child.kill('SIGKILL');
    await b.done;
    writeFileSync(join(dir, 'big'), 'small now');
    expectOk(build(dir, ['-t', 'after-kill:1']));
    expect(tsbuildSync(['du', '--root', root]).status).toBe(0);
  });

  it('survives kill -9 while a step with many files is committed, at several points', async () => {
    // The RUN makes 20,000 files, then the builder commits its snapshot (records, rename),
    // records the cache entry, streams the 20,000-entry layer through the diff-id hash and
    // tags the image: each round kills the build at another of these points, found by
    // watching what appears under --root, then checks that the same build succeeds and the
    // store reads back whole.
    const files = 20_000;
    const dir = context('killed-commit', {
      Dockerfile: `FROM busybox:test\nARG ROUND\nRUN mkdir /many && cd /many && seq 1 ${files} | xargs touch && echo "files-made $ROUND"\n`,
    });
    const entries = (sub: string) => new Set(existsSync(join(root, sub)) ? readdirSync(join(root, sub)) : []);
    /** Resolves once `sub` under the root holds an entry it did not hold when called. */
    const newEntryIn = (sub: string) => {
      const before = entries(sub);
      return () => [...entries(sub)].some((e) => !before.has(e));
    };
    const rounds: { name: string; trigger: () => () => boolean }[] = [
      { name: 'right after the command ends', trigger: () => () => true },
      // The committed snapshot's directory (renamed from the active one's).
      { name: 'when the snapshot directory is renamed into place', trigger: () => newEntryIn('snapshots') },
      // The cache record's temp file, before its rename.
      { name: 'when the cache record is being written', trigger: () => newEntryIn('cache') },
      { name: 'when the layer facts appear', trigger: () => newEntryIn('layer-meta') },
      { name: 'when a blob is being ingested', trigger: () => newEntryIn('content/ingest') },
      { name: '300 ms into the commit', trigger: () => { const t = Date.now() + 300; return () => Date.now() >= t; } },
    ];
    for (const [i, round] of rounds.entries()) {
      const args = ['build', '--root', root, '--progress', 'plain', '--build-arg', `ROUND=${i}`, '-t', `committed:${i}`, dir];
      const b = tsbuildAsync(args);
      await new Promise<void>((resolve) => {
        let seen = '';
        b.child.stderr!.on('data', (d: Buffer) => {
          seen += d.toString();
          if (!seen.includes(`files-made ${i}`)) return;
          b.child.stderr!.removeAllListeners('data');
          resolve();
        });
        b.done.then(() => resolve());
      });
      const fired = round.trigger();
      while (b.child.exitCode === null && !fired()) await new Promise((r) => setImmediate(r));
      b.child.kill('SIGKILL');
      await b.done;
      // Give the inner process (in its mount namespace) its parent-death signal.
      await new Promise((r) => setTimeout(r, 100));
      expect(mountsUnder(root), round.name).toEqual([]);
      expectOk(tsbuildSync(args));
      const check = context(`killed-commit-check-${i}`, {
        Dockerfile: `FROM committed:${i}\nRUN test "$(ls /many | wc -l)" -eq ${files}\n`,
      });
      expectOk(build(check));
      expect(tsbuildSync(['du', '--root', root]).status, round.name).toBe(0);
      const images = tsbuildSync(['images', '--root', root]);
      expect(images.status, round.name).toBe(0);
      expect(images.stdout).toContain(`committed`);
      expect(mountsUnder(root), round.name).toEqual([]);
    }
  }, 300_000);

  it('survives kill -9 in the middle of a RUN, and two builds at once', async () => {
    // A duration no other test uses: pgrep below looks at every process of the machine, and
    // other test files run beside this one (some with `sleep 30`).
    const dir = context('killed', { Dockerfile: 'FROM busybox:test\nRUN echo started && sleep 37\n' });
    const b = tsbuildAsync(['build', '--root', root, '--progress', 'plain', dir]);
    await new Promise<void>((resolve) => {
      b.child.stderr!.on('data', (d: Buffer) => {
        if (d.toString().includes('started')) resolve();
      });
    });
    b.child.kill('SIGKILL');
    await b.done;
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:test\nRUN echo started && sleep 0.1\n');
    const other = context('parallel', { Dockerfile: 'FROM busybox:test\nRUN echo other\n' });
    const [x, y] = await Promise.all([
      tsbuildAsync(['build', '--root', root, '--progress', 'plain', '-t', 'x:1', dir]).done,
      tsbuildAsync(['build', '--root', root, '--progress', 'plain', '-t', 'y:1', other]).done,
    ]);
    expectOk(x);
    expectOk(y);
    expect(run('pgrep', ['-f', 'sleep 37']).stdout).toBe('');
  });
});
