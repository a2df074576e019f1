// RUN --mount=type=secret, type=ssh and cache mounts with from=, end to end through the CLI
// on the busybox base, as root. A secret's bytes are looked for afterwards in every output
// and in every file of the state directory, layers decompressed.
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshAgent, sshTool, type TestAgent } from './support/ssh-agent.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { mountsUnder, run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-secrets-'));
const root = join(work, 'root');

const context = (name: string, files: Record<string, string>) => writeContext(join(work, name), files);

function build(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  // A source that blocks (a FIFO) must fail the test, not hang it.
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir], { env, timeout: 120_000 });
}

/** Builds a Dockerfile (its lines) with `files` beside it into a rootfs directory, and returns that directory. */
function buildToDir(name: string, lines: readonly string[], files: Record<string, string> = {}): string {
  const out = join(work, `${name}-out`);
  expectOk(build(context(name, { Dockerfile: [...lines, ''].join('\n'), ...files }), ['-o', `type=local,dest=${out}`]));
  return out;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Every regular file below `dir`, gzip members decompressed, as one list of buffers. */
function allBytes(dir: string): { path: string; data: Buffer }[] {
  const out: { path: string; data: Buffer }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const data = readFileSync(p);
        out.push({ path: p, data });
        if (data[0] === 0x1f && data[1] === 0x8b) out.push({ path: `${p} (gunzipped)`, data: gunzipSync(data) });
      }
    }
  };
  walk(dir);
  return out;
}

function filesHolding(dir: string, needle: string): string[] {
  return allBytes(dir).filter((f) => f.data.includes(Buffer.from(needle))).map((f) => f.path);
}

const ran = (r: { stderr: string }, word: string) => new RegExp(`^#\\d+ [\\d.]+ ${word}$`, 'm').test(r.stderr);

describe.skipIf(!isRoot && !isCI)('RUN --mount=type=secret|ssh|cache from=, end to end', () => {
  beforeAll(async () => {
    expectOk(build(await busyboxBaseContext(join(work, 'base')), ['-t', 'busybox:test']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  describe('secrets', () => {
    const fileSecret = 'file-secret-Xq7v9Lw2Pz';
    const envSecret = 'env-secret-Hk3m8Rt5Ys';
    const dockerfile = [
      'FROM busybox:test',
      // As a file at the default target, read-only, root's and 0400.
      'RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d" " -f1 > /file.sum && stat -c %a:%u:%g /run/secrets/tok >> /file.sum && (echo x 2>/dev/null > /run/secrets/tok || echo read-only >> /file.sum)',
      // As a variable, and at a target of our own with an owner and mode.
      'RUN --mount=type=secret,id=tok,env=TOKEN,target=/s/tok,uid=1000,gid=2000,mode=0440 printf %s "$TOKEN" | sha256sum | cut -d" " -f1 > /env.sum && stat -c %a:%u:%g /s/tok >> /env.sum',
      // Only as a variable: no file anywhere.
      'RUN --mount=type=secret,id=fromenv,env=FROM_ENV printf %s "$FROM_ENV" | sha256sum | cut -d" " -f1 > /fromenv.sum && test ! -e /run/secrets/fromenv && echo no-file >> /fromenv.sum',
      // Not given and not required: skipped.
      'RUN --mount=type=secret,id=absent,env=ABSENT test ! -e /run/secrets/absent && test -z "${ABSENT+set}" && echo skipped > /absent',
      '',
    ].join('\n');

    it('mounts a secret as a file and as a variable, only into the RUN, and nowhere else', () => {
      const secretFile = join(work, 'tok.txt');
      writeFileSync(secretFile, fileSecret);
      const dir = context('secrets', { Dockerfile: dockerfile });
      const oci = join(work, 'secrets.oci.tar');
      const local = join(work, 'secrets-local');
      const r = build(dir, ['--secret', `id=tok,src=${secretFile}`, '--secret', 'id=fromenv,env=MY_SECRET_VAR', '-t', 'secrets:test', '-o', `type=oci,dest=${oci}`, '-o', `type=local,dest=${local}`], {
        MY_SECRET_VAR: envSecret,
      });
      expectOk(r);
      const lines = (f: string) => readFileSync(join(local, f), 'utf8').trim().split('\n');
      expect(lines('file.sum')).toEqual([sha256(fileSecret), '400:0:0', 'read-only']);
      expect(lines('env.sum')).toEqual([sha256(fileSecret), '440:1000:2000']);
      expect(lines('fromenv.sum')).toEqual([sha256(envSecret), 'no-file']);
      expect(lines('absent')).toEqual(['skipped']);
      // The mount points the runner made are not in the image.
      for (const p of ['run', 's']) expect(existsSync(join(local, p)), p).toBe(false);
      // Not in the progress output, the OCI archive (layers, config, history), the rootfs
      // output, nor anywhere in the state directory (content, snapshots, cache records, tmp).
      for (const secret of [fileSecret, envSecret]) {
        expect(r.stderr + r.stdout).not.toContain(secret);
        const layout = join(work, `layout-${secret}`);
        mkdirSync(layout);
        expect(run('tar', ['-xf', oci, '-C', layout]).status).toBe(0);
        expect(filesHolding(layout, secret)).toEqual([]);
        expect(filesHolding(local, secret)).toEqual([]);
        expect(filesHolding(root, secret)).toEqual([]);
      }
      // And the OCI output is an image skopeo reads, with one layer per RUN.
      expect(run('skopeo', ['inspect', `oci-archive:${oci}`]).status).toBe(0);
      expect(readdirSync(join(root, 'tmp')).filter((n) => n.startsWith('secrets-'))).toEqual([]);
    });

    it('does not run a cached step again when only the secret changes', () => {
      const dir = context('secret-cache', {
        Dockerfile: 'FROM busybox:test\nRUN --mount=type=secret,id=k echo step-ran && sha256sum /run/secrets/k | cut -d" " -f1 > /k.sum\n',
      });
      const file = join(work, 'k.txt');
      writeFileSync(file, 'first-value');
      const out1 = join(work, 'sc1');
      const first = build(dir, ['--secret', `id=k,src=${file}`, '-o', `type=local,dest=${out1}`]);
      expectOk(first);
      expect(ran(first, 'step-ran')).toBe(true);
      writeFileSync(file, 'second-value');
      const out2 = join(work, 'sc2');
      const second = build(dir, ['--secret', `id=k,src=${file}`, '-o', `type=local,dest=${out2}`]);
      expectOk(second);
      expect(ran(second, 'step-ran')).toBe(false);
      expect(second.stderr).toMatch(/CACHED/);
      // The result is the first run's, made with the first value.
      expect(readFileSync(join(out2, 'k.sum'), 'utf8').trim()).toBe(sha256('first-value'));
      // The mount itself is part of the key: another target runs the step again.
      const moved = context('secret-cache-moved', {
        Dockerfile: 'FROM busybox:test\nRUN --mount=type=secret,id=k,target=/k echo step-ran && sha256sum /k | cut -d" " -f1 > /k.sum\n',
      });
      const third = build(moved, ['--secret', `id=k,src=${file}`]);
      expectOk(third);
      expect(ran(third, 'step-ran')).toBe(true);
    });

    it('fails a required secret nobody gave with its id and the Dockerfile line', () => {
      const dir = context('secret-required', {
        Dockerfile: 'FROM busybox:test\nRUN --mount=type=secret,id=deploy-key,required=true cat /run/secrets/deploy-key\n',
      });
      const r = build(dir, ['--secret', `id=other,src=${join(work, 'tok.txt')}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('Dockerfile:2:1');
      expect(r.stderr).toContain('secret deploy-key: not found');
      expect(r.stderr).toContain('--secret id=deploy-key');
      expect(r.stderr).not.toContain(fileSecret);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it('refuses a device or a FIFO as a secret source before any step runs, and a source over 500 KiB', () => {
      const dir = context('secret-sources', {
        Dockerfile: 'FROM busybox:test\nRUN --mount=type=secret,id=x wc -c /run/secrets/x > /size\n',
      });
      const fifo = join(work, 'secret.fifo');
      run('mkfifo', [fifo]);
      const big = join(work, 'big-secret');
      writeFileSync(big, Buffer.alloc(500 * 1024 + 1, 'b'));
      const out = join(work, 'secret-sources-out');
      const cases: [string, number, string][] = [
        ['src=/dev/zero', 2, '--secret id=x: /dev/zero is a character device; a secret source must be a regular file'],
        [`src=${fifo}`, 2, `--secret id=x: ${fifo} is a FIFO; a secret source must be a regular file`],
        [`src=${work}`, 2, `is a directory`],
        [`src=${big}`, 1, 'secret x too big. max size 500KiB'],
      ];
      for (const [src, status, message] of cases) {
        const r = build(dir, ['--secret', `id=x,${src}`, '-t', 'secret-sources:refused', '-o', `type=local,dest=${out}`]);
        expect(r.status, r.stderr).toBe(status);
        expect(r.stderr).toContain(message);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.stderr).not.toMatch(/^#\d+ /m); // no step started
        expect(existsSync(out)).toBe(false);
      }
      // (A variable over 500 KiB cannot reach a process on Linux, whose limit for one is 128 KiB:
      // cli/secrets.test.ts checks that limit on openSecrets itself.)
      // A symlink to a regular file of exactly 500 KiB is taken.
      const exact = join(work, 'exact-secret');
      writeFileSync(exact, Buffer.alloc(500 * 1024, 'e'));
      const link = join(work, 'exact-secret-link');
      symlinkSync(exact, link);
      expectOk(build(dir, ['--secret', `id=x,src=${link}`, '-o', `type=local,dest=${out}`]));
      expect(readFileSync(join(out, 'size'), 'utf8')).toBe('512000 /run/secrets/x\n');
    });

    it('refuses a malformed --secret as bad usage', () => {
      const dir = context('secret-usage', { Dockerfile: 'FROM busybox:test\n' });
      const r = build(dir, ['--secret', 'src=/etc/hostname']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('secret missing ID');
    });
  });

  describe('ssh', () => {
    let agent: TestAgent;
    beforeAll(async () => {
      agent = await startSshAgent(work, 'e2e-key');
    });
    afterAll(() => agent?.stop());

    /** The host's ssh-add and the libraries it loads, laid out to COPY into the image. */
    function sshAddTree(dest: string): void {
      const place = (path: string) => {
        mkdirSync(join(dest, dirname(path)), { recursive: true });
        copyFileSync(path, join(dest, path));
      };
      place('/usr/bin/ssh-add');
      const ldd = run('ldd', ['/usr/bin/ssh-add']);
      expect(ldd.status).toBe(0);
      for (const m of ldd.stdout.matchAll(/(\/\S+) \(0x/g)) place(m[1]!);
    }

    it('forwards the agent: ssh-add in the RUN lists its keys, cannot remove them, and nothing stays in the image', async () => {
      const dir = context('ssh', {
        Dockerfile: [
          'FROM busybox:test',
          'COPY tools/ /',
          'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock && ssh-add -l > /keys && (ssh-add -D 2>/dev/null; echo "delete exit $?" >> /keys)',
          'RUN --mount=type=ssh,id=second,target=/agent,required ssh-add -l > /keys2 && stat -c %a:%u /agent >> /keys2',
          '',
        ].join('\n'),
      });
      sshAddTree(join(dir, 'tools'));
      const out = join(work, 'ssh-out');
      const r = build(dir, ['--ssh', 'default', '--ssh', `second=${agent.sock}`, '-o', `type=local,dest=${out}`], { SSH_AUTH_SOCK: agent.sock });
      expectOk(r);
      const hostKeys = (await sshTool('ssh-add', ['-l'], agent.sock)).stdout;
      expect(hostKeys).toContain('e2e-key (ED25519)');
      expect(readFileSync(join(out, 'sock'), 'utf8')).toBe('/run/buildkit/ssh_agent.0\n');
      expect(readFileSync(join(out, 'keys'), 'utf8')).toBe(`${hostKeys}delete exit 1\n`);
      expect(readFileSync(join(out, 'keys2'), 'utf8')).toBe(`${hostKeys}600:0\n`);
      expect(existsSync(join(out, 'run'))).toBe(false);
      expect(existsSync(join(out, 'agent'))).toBe(false);
    });

    it('skips an optional agent nobody gave and fails a required one with its id', () => {
      const dir = context('ssh-missing', {
        Dockerfile: 'FROM busybox:test\nRUN --mount=type=ssh test ! -e /run/buildkit/ssh_agent.0 && echo skipped\nRUN --mount=type=ssh,id=deploy,required true\n',
      });
      const r = build(dir);
      expect(r.status).toBe(1);
      expect(ran(r, 'skipped')).toBe(true);
      expect(r.stderr).toContain('Dockerfile:3:1');
      expect(r.stderr).toContain('no SSH agent with id "deploy" was given');
    });
  });

  it('binds the root of a stage and of the context (no source=)', () => {
    const out = buildToDir(
      'bind-roots',
      [
        'FROM busybox:test AS s',
        'RUN echo from-stage > /s.txt',
        'FROM busybox:test',
        'RUN --mount=type=bind,from=s,target=/m --mount=type=bind,target=/ctx cat /m/s.txt /ctx/c.txt > /out',
      ],
      { 'c.txt': 'from-context\n' },
    );
    expect(readFileSync(join(out, 'out'), 'utf8')).toBe('from-stage\nfrom-context\n');
    expect(existsSync(join(out, 'm')) || existsSync(join(out, 'ctx'))).toBe(false);
  });

  describe('cache mounts', () => {
    it('start from the source of from= the first time, then keep their own content', () => {
      const out = buildToDir('cache-from', [
        'FROM busybox:test AS seed',
        'RUN mkdir -p /seed/sub && echo seeded > /seed/sub/a.txt && chown -R 1000:2000 /seed && chmod 0750 /seed',
        'FROM busybox:test',
        'RUN --mount=type=cache,target=/cache,from=seed,source=/seed cat /cache/sub/a.txt > /first && stat -c %u:%g:%a /cache /cache/sub/a.txt >> /first && echo added > /cache/b.txt',
        'RUN --mount=type=cache,target=/cache,from=seed,source=/seed ls /cache > /second',
        'RUN --mount=type=cache,target=/cache ls -A /cache > /unseeded',
      ]);
      expect(readFileSync(join(out, 'first'), 'utf8')).toBe('seeded\n1000:2000:750\n1000:2000:644\n');
      expect(readFileSync(join(out, 'second'), 'utf8')).toBe('b.txt\nsub\n');
      // Without from=, the same target is another cache: it starts empty.
      expect(readFileSync(join(out, 'unseeded'), 'utf8')).toBe('');
      expect(existsSync(join(out, 'cache'))).toBe(false);
    });

    it('let one RUN at a time use a sharing=locked cache', () => {
      // Two stages run in parallel; each checks that the other is not inside.
      const step = (me: string, other: string) =>
        `RUN --mount=type=cache,id=locked-e2e,target=/c,sharing=locked touch /c/${me}-in && sleep 1 && (test -e /c/${other}-in && echo overlap || echo alone) > /seen && rm /c/${me}-in`;
      const out = buildToDir('cache-locked', ['FROM busybox:test AS a', step('a', 'b'), 'FROM busybox:test AS b', step('b', 'a'), 'FROM busybox:test', 'COPY --from=a /seen /a', 'COPY --from=b /seen /b']);
      expect(readFileSync(join(out, 'a'), 'utf8')).toBe('alone\n');
      expect(readFileSync(join(out, 'b'), 'utf8')).toBe('alone\n');
    });
  });
});
