// RUN --mount=type=bind and type=cache end to end through the CLI, as root, on the busybox
// base: what a bind shows (.dockerignore applied), that a rw bind never writes its source,
// what goes into a step's cache key, and cache mounts under --no-cache. Tests named after a Go
// test are ports of BuildKit's frontend/dockerfile/dockerfile_mount_test.go.
import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { mountsUnder, tsbuildAsync, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

// /var/tmp, not /tmp: a tmpfs /tmp would make the context and the state directory one more
// kind of filesystem than the overlay lower dirs of real use.
const work = mkdtempSync('/var/tmp/tsbuild-mounts-');
const root = join(work, 'root');

let n = 0;
const context = (files: Record<string, string>) => writeContext(join(work, `ctx-${n++}`), files);

function build(dir: string, extra: string[] = []) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
}

/** Builds `dir` into a new rootfs directory; returns it and the build's log. */
function buildToDir(dir: string, extra: string[] = []): { out: string; log: string } {
  const out = join(work, `out-${n++}`);
  const r = build(dir, [...extra, '-o', `type=local,dest=${out}`]);
  expectOk(r);
  return { out, log: r.stderr };
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

/** Did the log show the step whose name ends with `end` cached? */
const cached = (log: string, end: string) => {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => /^#\d+ \[/.test(l) && l.endsWith(end));
  if (at === -1) throw new Error(`no step ending with ${end} in:\n${log}`);
  const id = lines[at]!.split(' ')[0]!;
  return lines.some((l) => l === `${id} CACHED`);
};

/** Every entry below `dir`: name, type, mode, owner, size, links, mtime and ctime (ns), content or link target. */
function treeState(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = rel === '' ? dir : join(dir, rel);
    const st = lstatSync(abs, { bigint: true });
    let what = '';
    if (st.isFile()) what = createHash('sha256').update(readFileSync(abs)).digest('hex');
    else if (st.isSymbolicLink()) what = readlinkSync(abs);
    out.push(`${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.nlink} ${st.mtimeNs} ${st.ctimeNs} ${what}`);
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(rel === '' ? name : `${rel}/${name}`);
  };
  walk('');
  return out;
}

describe.skipIf(!isRoot && !isCI)('RUN --mount=type=bind|cache, end to end', () => {
  beforeAll(async () => {
    expectOk(build(await busyboxBaseContext(join(work, 'base'), ['CMD ["/bin/sh"]']), ['-t', 'busybox:test']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    // Nothing a step set up is left in the scratch space.
    expect(readdirSync(join(root, 'tmp')).filter((e) => e !== 'empty-lower')).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  describe('a rw bind is a throw-away copy-on-write view', () => {
    it('of the build context: the step writes, the context stays byte for byte as it was', () => {
      const dir = context({
        Dockerfile: [
          'FROM busybox:test',
          'RUN --mount=type=bind,target=/ctx,rw echo changed > /ctx/a.txt && chmod 600 /ctx/a.txt && rm /ctx/sub/b.txt && rm /ctx/link && mkdir /ctx/newdir && touch /ctx/sub/new /ctx/a.txt && ls -A /ctx /ctx/sub > /seen && cat /ctx/a.txt >> /seen',
          'RUN --mount=type=bind,source=sub/c.txt,target=/c.txt,rw echo appended >> /c.txt && cat /c.txt > /file-seen',
          'RUN --mount=type=bind,target=/ctx ls -A /ctx /ctx/sub > /after && cat /ctx/a.txt /ctx/sub/c.txt >> /after',
          '',
        ].join('\n'),
        'a.txt': 'original\n',
        'sub/b.txt': 'b\n',
        'sub/c.txt': 'c\n',
      });
      chmodSync(join(dir, 'sub/b.txt'), 0o640);
      symlinkSync('a.txt', join(dir, 'link'));
      mkdirSync(join(dir, 'empty'));
      utimesSync(join(dir, 'sub'), 1_000_000, 1_000_000);
      const before = treeState(dir);
      const { out } = buildToDir(dir);
      expect(treeState(dir)).toEqual(before);
      expect(read(out, 'seen')).toBe('/ctx:\nDockerfile\na.txt\nempty\nnewdir\nsub\n\n/ctx/sub:\nc.txt\nnew\nchanged\n');
      expect(read(out, 'file-seen')).toBe('c\nappended\n');
      expect(read(out, 'after')).toBe('/ctx:\nDockerfile\na.txt\nempty\nlink\nsub\n\n/ctx/sub:\nb.txt\nc.txt\noriginal\nc\n');
    });

    it('testMountRWCache: of a stage, writable, and a changed unrelated file keeps the step cached by content', () => {
      const dockerfile = [
        'from busybox:test AS build',
        'copy cachebust /',
        'run mkdir out && echo foo > out/foo',
        'from busybox:test as second',
        'RUN --mount=from=build,src=out,target=/out,rw touch /out/bar && cat /dev/urandom | head -c 100 | sha256sum > /unique',
        'from scratch',
        'COPY --from=second /unique /unique',
        '',
      ].join('\n');
      const first = buildToDir(context({ Dockerfile: dockerfile, cachebust: '0' })).out;
      const second = buildToDir(context({ Dockerfile: dockerfile, cachebust: '1' })).out;
      expect(read(second, 'unique')).toBe(read(first, 'unique'));
    });

    it("of a stage: its changes are not in the stage's later use, and a ro bind stays read-only", () => {
      const { out } = buildToDir(
        context({
          Dockerfile: [
            'FROM busybox:test AS s',
            'RUN mkdir /out && echo foo > /out/foo',
            'FROM busybox:test AS second',
            'RUN --mount=from=s,src=out,target=/out,rw touch /out/bar && echo more >> /out/foo && ls /out > /listed && cat /out/foo >> /listed',
            'RUN --mount=from=s,target=/whole,rw rm /whole/etc/passwd && mkdir /whole/new && test ! -e /whole/etc/passwd && echo whole-writable > /whole-seen',
            'RUN --mount=from=s,src=out,target=/ro (touch /ro/x 2>/dev/null && echo writable || echo read-only) > /ro-seen',
            'FROM s',
            'COPY --from=second /listed /whole-seen /ro-seen /',
            'RUN ls /out > /after && cat /out/foo >> /after && test -e /etc/passwd && test ! -e /new && echo passwd-kept >> /after',
            '',
          ].join('\n'),
        }),
      );
      expect(read(out, 'listed')).toBe('bar\nfoo\nfoo\nmore\n');
      expect(read(out, 'whole-seen')).toBe('whole-writable\n');
      expect(read(out, 'ro-seen')).toBe('read-only\n');
      expect(read(out, 'after')).toBe('foo\nfoo\npasswd-kept\n');
    });

    it('leaves no mount and no scratch directory behind when the step fails', () => {
      const r = build(
        context({
          Dockerfile: 'FROM busybox:test AS s\nRUN touch /s\nFROM busybox:test\nRUN --mount=target=/ctx,rw --mount=from=s,target=/s,rw touch /ctx/x /s/x && exit 3\n',
          '.dockerignore': 'hidden\n',
          hidden: 'h',
        }),
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('exit code: 3');
      expect(mountsUnder(root)).toEqual([]);
      expect(readdirSync(join(root, 'tmp')).filter((e) => e !== 'empty-lower')).toEqual([]);
    });

    it('leaves no scratch directory behind when the build is interrupted in the step', async () => {
      const dir = context({ Dockerfile: 'FROM busybox:test\nRUN --mount=target=/ctx,rw echo started && sleep 30\n', '.dockerignore': 'x\n', x: '' });
      const b = tsbuildAsync(['build', '--root', root, '--progress', 'plain', dir]);
      await new Promise<void>((resolve) => {
        let seen = '';
        b.child.stderr!.on('data', (d: Buffer) => {
          seen += d.toString();
          if (seen.includes('started')) resolve();
        });
      });
      b.child.kill('SIGINT');
      expect((await b.done).status).not.toBe(0);
      expect(mountsUnder(root)).toEqual([]);
      expect(readdirSync(join(root, 'tmp')).filter((e) => e !== 'empty-lower')).toEqual([]);
    });
  });

  describe('a bind of a build context shows what .dockerignore leaves in it', () => {
    it('hides excluded files in ro and rw binds and in a bind of a subdirectory, keeping directory attributes', () => {
      const dir = context({
        Dockerfile: [
          'FROM busybox:test',
          'RUN --mount=type=bind,target=/ctx ls -A /ctx /ctx/keep /ctx/sub > /ro && stat -c "%a %Y" /ctx/keep >> /ro',
          'RUN --mount=type=bind,target=/ctx,rw ls -A /ctx /ctx/keep > /rw && echo new > /ctx/secret.txt && cat /ctx/secret.txt >> /rw',
          'RUN --mount=type=bind,source=keep,target=/k ls -A /k > /sub',
          'RUN --mount=type=bind,source=logs,target=/l true',
          '',
        ].join('\n'),
        '.dockerignore': 'secret.txt\nlogs\n*.tmp\nkeep/*\n!keep/this\n',
        'secret.txt': 's3cret',
        'logs/a.log': 'log',
        'x.tmp': 'tmp',
        'sub/y.tmp': 'deeper: not matched by *.tmp',
        'keep/this': 'kept',
        'keep/that': 'excluded',
        'visible.txt': 'v',
      });
      chmodSync(join(dir, 'keep'), 0o750);
      utimesSync(join(dir, 'keep'), 1_234_567_890, 1_234_567_890);
      // The last step binds an excluded directory: it is not found.
      const failing = build(dir);
      expect(failing.status).toBe(1);
      expect(failing.stderr).toMatch(/MOUNT_FAILED|"\/logs": not found/);
      writeFileSync(join(dir, 'Dockerfile'), readFileSync(join(dir, 'Dockerfile'), 'utf8').replace('RUN --mount=type=bind,source=logs,target=/l true\n', ''));
      const before = treeState(dir);
      const { out } = buildToDir(dir);
      expect(treeState(dir)).toEqual(before);
      expect(read(out, 'ro')).toBe('/ctx:\n.dockerignore\nDockerfile\nkeep\nsub\nvisible.txt\n\n/ctx/keep:\nthis\n\n/ctx/sub:\ny.tmp\n750 1234567890\n');
      expect(read(out, 'rw')).toBe('/ctx:\n.dockerignore\nDockerfile\nkeep\nsub\nvisible.txt\n\n/ctx/keep:\nthis\nnew\n');
      expect(read(out, 'sub')).toBe('this\n');
    });

    it("applies a named context's own .dockerignore", () => {
      const extra = writeContext(join(work, `named-${n++}`), { '.dockerignore': 'hidden.txt\n', 'hidden.txt': 'h', 'shown.txt': 's' });
      const { out } = buildToDir(
        context({ Dockerfile: 'FROM busybox:test\nRUN --mount=from=extra,target=/x ls -A /x > /named\nRUN --mount=from=extra,target=/x,rw ls -A /x > /named-rw\n' }),
        ['--build-context', `extra=${extra}`],
      );
      expect(read(out, 'named')).toBe('.dockerignore\nshown.txt\n');
      expect(read(out, 'named-rw')).toBe('.dockerignore\nshown.txt\n');
    });
  });

  describe('a bind of a local build context shows owners 0:0, as BuildKit delivers the context', () => {
    it('in ro and rw binds of a directory, a file and a symlinked source, and in what the step copies into the image', () => {
      const dir = context({
        Dockerfile: [
          'FROM busybox:test',
          'RUN --mount=type=bind,target=/src cp -a /src /out && stat -c "%n %u:%g %a %Y" /src /src/file /src/dir /src/dir/f > /ro-stat',
          'RUN --mount=type=bind,target=/src,rw stat -c "%n %u:%g" /src/file /src/dir > /rw-stat && chown 42:42 /src/file && touch /src/dir/new && stat -c "%n %u:%g" /src/file >> /rw-stat',
          'RUN --mount=type=bind,source=dir/f,target=/f stat -c "%n %u:%g %a %Y" /f > /file-stat',
          'RUN --mount=type=bind,source=dir/f,target=/f,rw stat -c "%n %u:%g" /f > /file-rw-stat && echo more >> /f && cat /f >> /file-rw-stat',
          'RUN --mount=type=bind,source=link,target=/l stat -c "%n %u:%g %a" /l /l/f > /link-stat',
          'RUN --mount=from=extra,target=/x stat -c "%n %u:%g" /x /x/n.txt > /named-stat',
          '',
        ].join('\n'),
        '.dockerignore': 'ignored\n',
        file: 'file\n',
        'dir/f': 'f\n',
        ignored: 'i',
      });
      symlinkSync('dir', join(dir, 'link'));
      chmodSync(join(dir, 'dir'), 0o750);
      chmodSync(join(dir, 'dir/f'), 0o640);
      for (const path of ['', 'Dockerfile', '.dockerignore', 'file', 'dir', 'dir/f', 'ignored', 'link']) lchownSync(join(dir, path), 1000, 1000);
      lchownSync(join(dir, 'dir/f'), 1234, 5678);
      utimesSync(join(dir, 'dir/f'), 1_500_000_000, 1_500_000_000);
      utimesSync(join(dir, 'dir'), 1_400_000_000, 1_400_000_000);
      utimesSync(join(dir, 'file'), 1_200_000_000, 1_200_000_000);
      utimesSync(dir, 1_300_000_000, 1_300_000_000);
      const extra = writeContext(join(work, `named-${n++}`), { 'n.txt': 'n' });
      lchownSync(extra, 1000, 1000);
      lchownSync(join(extra, 'n.txt'), 1000, 1000);
      const before = treeState(dir);
      const { out } = buildToDir(dir, ['--build-context', `extra=${extra}`]);
      // The user's files: not written, not linked, not even their ctime touched.
      expect(treeState(dir)).toEqual(before);
      expect(read(out, 'ro-stat')).toBe('/src 0:0 755 1300000000\n/src/file 0:0 644 1200000000\n/src/dir 0:0 750 1400000000\n/src/dir/f 0:0 640 1500000000\n');
      expect(read(out, 'rw-stat')).toBe('/src/file 0:0\n/src/dir 0:0\n/src/file 42:42\n');
      expect(read(out, 'file-stat')).toBe('/f 0:0 640 1500000000\n');
      expect(read(out, 'file-rw-stat')).toBe('/f 0:0\nf\nmore\n');
      expect(read(out, 'link-stat')).toBe('/l 0:0 750\n/l/f 0:0 640\n');
      expect(read(out, 'named-stat')).toBe('/x 0:0\n/x/n.txt 0:0\n');
      // What the step copied out of the bind is root's in the image, ignored files absent.
      const owners = (rel: string) => {
        const st = lstatSync(join(out, 'out', rel));
        return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
      };
      expect(['', 'file', 'dir', 'dir/f', 'link', 'Dockerfile'].map(owners)).toEqual(['0:0 755', '0:0 644', '0:0 750', '0:0 640', '0:0 777', '0:0 644']);
      expect(readdirSync(join(out, 'out')).sort()).toEqual(['.dockerignore', 'Dockerfile', 'dir', 'file', 'link']);
      expect(readlinkSync(join(out, 'out/link'))).toBe('dir');
      expect(read(out, 'out/dir/f')).toBe('f\n');
    });

    it('copies a path once per content and times: an unchanged context is bound again from the same copy, a touched file from a new one', () => {
      const dir = context({
        Dockerfile: 'FROM busybox:test\nRUN --mount=type=bind,source=src,target=/src stat -c "%i %Y" /src/a > /seen\n',
        'src/a': 'a\n',
      });
      utimesSync(join(dir, 'src/a'), 1_600_000_000, 1_600_000_000);
      const first = read(buildToDir(dir).out, 'seen');
      expect(first).toMatch(/^\d+ 1600000000\n$/);
      // --no-cache runs the step again; the copy made for the first build is bound again.
      expect(read(buildToDir(dir, ['--no-cache']).out, 'seen')).toBe(first);
      // Same content, a new time: the step's key stays (times are not in it), the copy does not.
      utimesSync(join(dir, 'src/a'), 1_700_000_000, 1_700_000_000);
      const touched = read(buildToDir(dir, ['--no-cache']).out, 'seen');
      expect(touched).toMatch(/^\d+ 1700000000\n$/);
      expect(touched.split(' ')[0]).not.toBe(first.split(' ')[0]);
    });
  });

  describe("a step's cache key holds every file its binds show", () => {
    it('testMountDuplicate: an updated file under either of two binds of the context runs the step again', () => {
      const dockerfile = [
        'FROM busybox:test AS base',
        'RUN --mount=source=.,target=/tmp/test \\',
        '  --mount=source=b.txt,target=/tmp/b.txt \\',
        '  cat /tmp/test/a.txt /tmp/b.txt > /combined.txt',
        'FROM scratch',
        'COPY --from=base /combined.txt /',
        '',
      ].join('\n');
      const dir = context({ Dockerfile: dockerfile, 'a.txt': 'foo\n', 'b.txt': 'bar\n' });
      expect(read(buildToDir(dir).out, 'combined.txt')).toBe('foo\nbar\n');
      writeFileSync(join(dir, 'a.txt'), 'updated\n');
      expect(read(buildToDir(dir).out, 'combined.txt')).toBe('updated\nbar\n');
    });

    it('two binds of different paths: the second one changes, an unrelated or ignored file does not', () => {
      const dir = context({
        Dockerfile: 'FROM busybox:test\nRUN --mount=source=a,target=/a --mount=source=b,target=/b cat /a/f /b/f > /out\n',
        '.dockerignore': 'b/ignored\n',
        'a/f': 'a1\n',
        'b/f': 'b1\n',
        'b/ignored': 'i1',
        'unrelated.txt': 'u1',
      });
      expect(read(buildToDir(dir).out, 'out')).toBe('a1\nb1\n');
      writeFileSync(join(dir, 'b/f'), 'b2\n');
      expect(read(buildToDir(dir).out, 'out')).toBe('a1\nb2\n');
      writeFileSync(join(dir, 'unrelated.txt'), 'u2');
      writeFileSync(join(dir, 'b/ignored'), 'i2');
      const again = buildToDir(dir);
      expect(cached(again.log, 'cat /a/f /b/f > /out')).toBe(true);
      expect(read(again.out, 'out')).toBe('a1\nb2\n');
    });

    it('a file of a named context under the bind runs the step again', () => {
      const extra = writeContext(join(work, `named-${n++}`), { 'tool.sh': 'v1\n' });
      const dir = context({ Dockerfile: 'FROM busybox:test\nRUN --mount=from=extra,target=/x cat /x/tool.sh > /out\n' });
      const args = ['--build-context', `extra=${extra}`];
      expect(read(buildToDir(dir, args).out, 'out')).toBe('v1\n');
      writeFileSync(join(extra, 'tool.sh'), 'v2\n');
      expect(read(buildToDir(dir, args).out, 'out')).toBe('v2\n');
    });
  });

  describe('ported from BuildKit', () => {
    it('testMountContext: the context is mounted by default', () => {
      expectOk(build(context({ Dockerfile: 'FROM busybox:test\nRUN --mount=target=/context [ "$(cat /context/testfile)" == "contents0" ]\n', testfile: 'contents0' })));
    });

    it('a step on scratch runs on an empty root and keeps only what it wrote', () => {
      const dir = context({
        Dockerfile: 'FROM scratch\nRUN --mount=from=busybox:test,target=/tools ["/tools/bin/busybox", "sh", "-c", "echo made > /made"]\n',
      });
      const { out } = buildToDir(dir);
      expect(read(out, 'made')).toBe('made\n');
      expect(readdirSync(out).filter((e) => e !== 'tools')).toEqual(['made']);
    });

    it('testMountTmpfs: a tmpfs is gone after the step', () => {
      expectOk(build(context({ Dockerfile: 'FROM busybox:test\nRUN --mount=target=/mytmp,type=tmpfs touch /mytmp/foo\nRUN [ ! -f /mytmp/foo ]\n' })));
    });

    it('testCacheMountDefaultID: the target is the id', () => {
      expectOk(
        build(
          context({
            Dockerfile: [
              'FROM busybox:test',
              'RUN --mount=type=cache,target=/mycache touch /mycache/foo',
              'RUN --mount=type=cache,target=/mycache2 [ ! -f /mycache2/foo ]',
              'RUN --mount=type=cache,target=/mycache [ -f /mycache/foo ]',
              '',
            ].join('\n'),
          }),
          ['--no-cache'],
        ),
      );
    });

    it('testCacheMountUser: uid, gid and mode of a new cache', () => {
      expectOk(build(context({ Dockerfile: 'FROM busybox:test\nRUN --mount=type=cache,target=/mycache,uid=1001,gid=1002,mode=0751 [ "$(stat -c "%u %g %f" /mycache)" == "1001 1002 41e9" ]\n' })));
    });

    it('testMountEnvAcrossStages: a cache id from ENV, across stages', () => {
      expectOk(
        build(
          context({
            Dockerfile: [
              'FROM busybox:test as stage1',
              'ENV MNT_ID=mycache',
              'ENV MNT_TYPE2=cache',
              'RUN --mount=type=cache,id=mycache,target=/abcabc touch /abcabc/foo',
              'RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/cbacba [ -f /cbacba/foo ]',
              'FROM stage1',
              'RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/whatever [ -f /whatever/foo ]',
              '',
            ].join('\n'),
          }),
          ['--no-cache'],
        ),
      );
    });

    it('testCacheMountParallel: nested cache mounts in two stages at once, with --no-cache', () => {
      const dir = context({
        Dockerfile: [
          'FROM busybox:test AS b1',
          'RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 1',
          'FROM busybox:test AS b2',
          'RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 2',
          'FROM scratch',
          'COPY --from=b1 /etc/passwd p1',
          'COPY --from=b2 /etc/passwd p2',
          '',
        ].join('\n'),
      });
      for (let i = 0; i < 3; i++) expectOk(build(dir, ['--no-cache']));
    });
  });

  describe('a cache mount with source= shows that path of the cache, as BuildKit does', () => {
    it('a directory, a file or a symlink of the cache, resolved inside it; writes land in the cache; ro is read-only', () => {
      const { out } = buildToDir(
        context({
          Dockerfile: [
            'FROM busybox:test',
            'RUN --mount=type=cache,id=src1,target=/c mkdir -p /c/a/b /c/real && echo in-a > /c/a/f && echo top > /c/top && ln -s a /c/lnk && ln -s /real /c/abs',
            'RUN --mount=type=cache,id=src1,source=a,target=/x ls -A /x > /seen && echo new > /x/g',
            'RUN --mount=type=cache,id=src1,target=/c ls -A /c /c/a > /whole',
            'RUN --mount=type=cache,id=src1,source=lnk,target=/y ls -A /y > /via-link',
            'RUN --mount=type=cache,id=src1,source=abs,target=/z touch /z/made-through-abs',
            'RUN --mount=type=cache,id=src1,src=/a/f,target=/file cat /file > /file-seen',
            'RUN --mount=type=cache,id=src1,target=/c ls -A /c/real > /real-seen',
            'RUN --mount=type=cache,id=src1,source=a,target=/r,ro (touch /r/x 2>/dev/null && echo writable || echo read-only) > /ro',
            '',
          ].join('\n'),
        }),
        ['--no-cache'],
      );
      expect(read(out, 'seen')).toBe('b\nf\n');
      expect(read(out, 'whole')).toBe('/c:\na\nabs\nlnk\nreal\ntop\n\n/c/a:\nb\nf\ng\n');
      expect(read(out, 'via-link')).toBe('b\nf\ng\n');
      // An absolute link in the cache names a path of the cache, not of the host.
      expect(read(out, 'real-seen')).toBe('made-through-abs\n');
      expect(read(out, 'file-seen')).toBe('in-a\n');
      expect(read(out, 'ro')).toBe('read-only\n');
    });

    it('a missing source= path fails the step and is not made, as in BuildKit', () => {
      const r = build(context({ Dockerfile: 'FROM busybox:test\nRUN --mount=type=cache,id=src-missing,source=nothere,target=/x true\n' }));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('cache mount source "/nothere": not found');
      const { out } = buildToDir(context({ Dockerfile: 'FROM busybox:test\nRUN --mount=type=cache,id=src-missing,target=/c ls -A /c > /seen\n' }), ['--no-cache']);
      expect(read(out, 'seen')).toBe('');
    });

    it('uid, gid and mode leave a source= path and the cache root as they are (BuildKit applies them only without source=)', () => {
      const { out } = buildToDir(
        context({
          Dockerfile: [
            'FROM busybox:test',
            'RUN --mount=type=cache,id=src-owner,target=/c mkdir -p /c/s && chmod 700 /c/s',
            'RUN --mount=type=cache,id=src-owner,source=s,target=/x,uid=1001,gid=1002,mode=0751 stat -c "%u %g %a" /x > /with-source',
            'RUN --mount=type=cache,id=src-owner,target=/c stat -c "%n %u %g %a" /c /c/s > /after',
            '',
          ].join('\n'),
        }),
        ['--no-cache'],
      );
      expect(read(out, 'with-source')).toBe('0 0 700\n');
      expect(read(out, 'after')).toBe('/c 0 0 755\n/c/s 0 0 700\n');
    });

    it('from= a stage: the source path is resolved inside the stage, a symlink to a directory of it included', () => {
      const { out } = buildToDir(
        context({
          Dockerfile: [
            'FROM busybox:test AS s',
            'RUN mkdir /real && echo r > /real/f && chown 1001:1002 /real && chmod 750 /real && ln -s /real /data',
            'FROM busybox:test',
            'RUN --mount=type=cache,id=src-from,from=s,source=data,target=/x ls -A /x > /seen && stat -c "%u %g %a" /x >> /seen',
            '',
          ].join('\n'),
        }),
      );
      expect(read(out, 'seen')).toBe('f\n1001 1002 750\n');
    });

    it('testCacheMountSourceEscape: a symlink in the cache to a host path fails the build, and nothing of the host is read', () => {
      const host = writeContext(join(work, `host-${n++}`), { hostname: 'HOST-ONLY-CONTENT\n' });
      for (const [name, link] of [['etc', '/etc'], ['host', host], ['relative', '../../../../../../../../..' + host]] as const) {
        const r = build(
          context({
            Dockerfile: [
              'FROM busybox:test AS init',
              `RUN --mount=type=cache,id=sourceescape-${name},target=/cache mkdir -p /cache/sel && echo benign > /cache/sel/benign.txt`,
              'FROM init AS link',
              `RUN --mount=type=cache,id=sourceescape-${name},target=/cache rm -rf /cache/sel && ln -s ${link} /cache/sel`,
              'FROM link AS victim',
              `RUN --mount=type=cache,id=sourceescape-${name},source=sel,target=/victim cat /victim/hostname`,
              'FROM scratch',
              'COPY --from=victim /etc/hostname /hostname',
              '',
            ].join('\n'),
          }),
          ['--no-cache'],
        );
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('cache mount source "/sel": not found');
        expect(r.stderr).not.toContain('HOST-ONLY-CONTENT');
      }
    });
  });

  describe('--no-cache and cache mounts', () => {
    it('start empty under --no-cache, and what they gather then is what later builds see', () => {
      const step = (cmd: string) => context({ Dockerfile: `FROM busybox:test\nRUN --mount=type=cache,id=nc1,target=/m1 --mount=type=cache,id=nc2,target=/m2 ${cmd}\n` });
      expectOk(build(step('touch /m1/foo /m2/bar')));
      // Only the ids of the steps run without their cache are emptied: nc3 is not used here.
      const other = context({ Dockerfile: 'FROM busybox:test\nRUN --mount=type=cache,id=nc3,target=/m3 touch /m3/kept\n' });
      expectOk(build(other));
      const noCache = context({ Dockerfile: 'FROM busybox:test\nRUN --mount=type=cache,id=nc1,target=/m1 ls -A /m1 > /seen && touch /m1/foo2\n' });
      expect(read(buildToDir(noCache, ['--no-cache']).out, 'seen')).toBe('');
      const { out } = buildToDir(context({ Dockerfile: 'FROM busybox:test\nRUN --mount=type=cache,id=nc1,target=/m1 --mount=type=cache,id=nc2,target=/m2 --mount=type=cache,id=nc3,target=/m3 ls -A /m1 /m2 /m3 > /seen\n' }));
      expect(read(out, 'seen')).toBe('/m1:\nfoo2\n\n/m2:\nbar\n\n/m3:\nkept\n');
    });

    it('--no-cache-filter empties the cache mounts of the filtered stages only', () => {
      const dockerfile = (tag: string) =>
        [
          'FROM busybox:test AS b',
          `RUN --mount=type=cache,id=ncf-b,target=/c ls -A /c > /seen && touch /c/${tag}`,
          'FROM busybox:test AS a',
          'COPY --from=b /seen /b',
          `RUN --mount=type=cache,id=ncf-a,target=/c ls -A /c > /a && touch /c/${tag}`,
          '',
        ].join('\n');
      expectOk(build(context({ Dockerfile: dockerfile('first') })));
      const { out } = buildToDir(context({ Dockerfile: dockerfile('second') }), ['--no-cache-filter', 'a']);
      expect(read(out, 'a')).toBe('');
      expect(read(out, 'b')).toBe('first\n');
    });
  });
});
