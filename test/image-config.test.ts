// The image config, history and step names a build leaves, compared with what BuildKit's
// Dockerfile frontend makes, end to end through the CLI on the busybox base, as root. Tests
// named after a Go test are ports of BuildKit's own (frontend/dockerfile/*_test.go).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { ociArchiveConfig, type OciImageConfig } from './support/oci.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-config-'));
const root = join(work, 'root');
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let n = 0;
const fresh = (what: string) => join(work, `${what}-${++n}`);
const context = (files: Record<string, string>) => writeContext(fresh('ctx'), files);

function build(dir: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir], { env });
}

/** Builds `dir` into an OCI archive and a local directory: the image config and the files. */
function buildImage(dir: string, extra: readonly string[] = []): { config: OciImageConfig; files: string } {
  const oci = `${fresh('image')}.tar`;
  const files = fresh('files');
  expectOk(build(dir, [...extra, '-o', `type=oci,dest=${oci}`, '-o', `type=local,dest=${files}`]));
  return { config: ociArchiveConfig(oci, fresh('layout')), files };
}

/** The names of the vertices a build showed (from its json progress). */
function vertexNames(dir: string, extra: readonly string[] = []): string[] {
  const r = tsbuildSync(['build', '--root', root, '--progress', 'json', ...extra, dir]);
  expectOk(r);
  const names = new Set<string>();
  for (const line of r.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as { kind: string; name?: string };
    if (e.kind === 'vertex' && e.name !== undefined) names.add(e.name);
  }
  return [...names];
}

const createdBy = (img: OciImageConfig) => img.history.map((h) => h.created_by);
/** This build's own history entries: those after the busybox base's two. */
const ownHistory = (img: OciImageConfig) => img.history.slice(2).map((h) => [h.created_by, h.empty_layer === true]);

describe.skipIf(!isRoot && !isCI)('image config and history, as BuildKit makes them', () => {
  beforeAll(async () => {
    const base = await busyboxBaseContext(join(work, 'base'), ['CMD ["/bin/sh"]']);
    // Also as `busybox`, so that the ported tests read as BuildKit's (no registry is asked).
    expectOk(build(base, ['-t', 'busybox:test', '-t', 'busybox']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  describe('FROM scratch', () => {
    it('starts from the empty image: WorkingDir / and PATH, kept by images built on it', () => {
      const { config } = buildImage(context({ Dockerfile: 'FROM scratch\nCOPY Dockerfile /d\n' }));
      expect(config.config).toEqual({ Env: [PATH], WorkingDir: '/' });
      // busybox:test was built FROM scratch too: its WorkingDir carries on.
      const child = buildImage(context({ Dockerfile: 'FROM busybox:test\nRUN true\n' })).config;
      expect(child.config).toEqual({ Env: [PATH], Cmd: ['/bin/sh'], WorkingDir: '/', ArgsEscaped: true });
    });

    it('testDockerfileScratchConfig: os, architecture, WorkingDir and PATH set; one history entry, no layer', () => {
      const { config } = buildImage(context({ Dockerfile: '\nFROM scratch\nENV foo=bar\n' }));
      expect(config.os).not.toBe('');
      expect(config.architecture).not.toBe('');
      expect(config.config['WorkingDir']).toBe('/');
      expect(config.rootfs.type).toBe('layers');
      expect(config.rootfs.diff_ids).toHaveLength(0);
      expect(config.history).toHaveLength(1);
      expect(config.history[0]!.created_by).toContain('ENV foo=bar');
      expect(config.history[0]!.empty_layer).toBe(true);
      expect(config.config['Env']).toContain('foo=bar');
      expect((config.config['Env'] as string[]).some((e) => e.startsWith('PATH='))).toBe(true);
    });
  });

  it("MAINTAINER sets the image's author, which a stage and an image built on it keep", () => {
    const dir = context({ Dockerfile: 'FROM busybox:test AS base\nMAINTAINER Jane Doe <jane@example.com>\nFROM base\nRUN true\n' });
    expectOk(build(dir, ['-t', 'maintained:test']));
    const { config } = buildImage(dir);
    expect(config.author).toBe('Jane Doe <jane@example.com>');
    expect(ownHistory(config)).toEqual([
      ['MAINTAINER Jane Doe <jane@example.com>', true],
      ['RUN /bin/sh -c true # buildkit', false],
    ]);
    const onTop = buildImage(context({ Dockerfile: 'FROM maintained:test\nENV A=1\n' })).config;
    expect(onTop.author).toBe('Jane Doe <jane@example.com>');
    expect(buildImage(context({ Dockerfile: 'FROM busybox:test\nENV A=1\n' })).config.author).toBeUndefined();
  });

  it("a stage FROM another has the parent's ARGs in scope: RUN sees them, its history lists them first", () => {
    const dir = context({
      Dockerfile: [
        'FROM busybox:test AS base',
        'ARG SHARED=from-base',
        'ARG EMPTY',
        'ENV KEPT=env',
        'FROM base AS child',
        'ARG OWN=own',
        'RUN echo "$SHARED|$EMPTY|$OWN|$KEPT" > /child.txt',
        'FROM child',
        'ARG SHARED',
        'RUN echo "$SHARED" > /redeclared.txt',
        'ARG SHARED=changed',
        'RUN echo "$SHARED" > /changed.txt',
        '',
      ].join('\n'),
    });
    const { config, files } = buildImage(dir);
    expect(readFileSync(join(files, 'child.txt'), 'utf8')).toBe('from-base||own|env\n');
    // Declared again without a value, the ARG keeps the parent's value.
    expect(readFileSync(join(files, 'redeclared.txt'), 'utf8')).toBe('from-base\n');
    expect(readFileSync(join(files, 'changed.txt'), 'utf8')).toBe('changed\n');
    // ARG values never reach the image config.
    expect(config.config['Env']).toEqual([PATH, 'KEPT=env']);
    expect(ownHistory(config)).toEqual([
      ['ARG SHARED=from-base', true],
      ['ARG EMPTY', true],
      ['ENV KEPT=env', true],
      ['ARG OWN=own', true],
      ['RUN |3 SHARED=from-base EMPTY= OWN=own /bin/sh -c echo "$SHARED|$EMPTY|$OWN|$KEPT" > /child.txt # buildkit', false],
      ['ARG SHARED', true],
      ['RUN |3 SHARED=from-base EMPTY= OWN=own /bin/sh -c echo "$SHARED" > /redeclared.txt # buildkit', false],
      ['ARG SHARED=changed', true],
      ['RUN |3 SHARED=changed EMPTY= OWN=own /bin/sh -c echo "$SHARED" > /changed.txt # buildkit', false],
    ]);
  });

  it('EXPOSE lists every port of a range in its history, protocols in lower case, as the config has them', () => {
    const { config } = buildImage(context({ Dockerfile: 'FROM busybox:test\nEXPOSE 8000-8002/tcp 53/UDP\n' }));
    expect(config.config['ExposedPorts']).toEqual({ '53/udp': {}, '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {} });
    expect(ownHistory(config)).toEqual([['EXPOSE [53/udp 8000/tcp 8001/tcp 8002/tcp]', true]]);
  });

  it('proxy build args reach RUN in both letter cases, and never the config, the history or the cache key unless declared', () => {
    const dir = context({
      Dockerfile: [
        'FROM busybox:test',
        'RUN env | grep -i _proxy= | sort > /proxy.txt',
        'ARG no_proxy',
        'RUN echo "$no_proxy" > /declared.txt',
        '',
      ].join('\n'),
    });
    const proxies = (http: string) => ['--build-arg', `http_proxy=${http}`, '--build-arg', 'HTTPS_PROXY=http://s:3128', '--build-arg', 'no_proxy=localhost', '--build-arg', 'ALL_PROXY=socks5://a:1080'];
    const first = buildImage(dir, proxies('http://p:3128'));
    expect(readFileSync(join(first.files, 'proxy.txt'), 'utf8').split('\n')).toEqual([
      'ALL_PROXY=socks5://a:1080',
      'HTTPS_PROXY=http://s:3128',
      'HTTP_PROXY=http://p:3128',
      'NO_PROXY=localhost',
      'all_proxy=socks5://a:1080',
      'http_proxy=http://p:3128',
      'https_proxy=http://s:3128',
      'no_proxy=localhost',
      '',
    ]);
    expect(readFileSync(join(first.files, 'declared.txt'), 'utf8')).toBe('localhost\n');
    expect(first.config.config['Env']).toEqual([PATH]);
    expect(ownHistory(first.config)).toEqual([
      ['RUN /bin/sh -c env | grep -i _proxy= | sort > /proxy.txt # buildkit', false],
      ['ARG no_proxy=localhost', true],
      ['RUN |1 no_proxy=localhost /bin/sh -c echo "$no_proxy" > /declared.txt # buildkit', false],
    ]);
    expect(JSON.stringify(first.config)).not.toContain('p:3128');
    // Another proxy is no reason to run the step again: the cached layer (and its file) stay.
    const again = buildImage(dir, proxies('http://other:8080'));
    expect(readFileSync(join(again.files, 'proxy.txt'), 'utf8')).toContain('http_proxy=http://p:3128\n');
    expect(again.config.rootfs.diff_ids).toEqual(first.config.rootfs.diff_ids);
  });

  it("names a RUN's vertex with its variables expanded and a secret's variable masked, padded [n/m] numbers", () => {
    const secret = join(work, 'pw.txt');
    writeFileSync(secret, 'pw');
    const dir = context({
      Dockerfile: [
        'FROM busybox:test',
        'ENV OUT=/out.txt',
        ...Array.from({ length: 9 }, (_, i) => `WORKDIR /w${i}`),
        'RUN --mount=type=secret,id=tok,env=TOKEN [ "$TOKEN" = "pw" ] && echo "ok $UNSET" > $OUT',
        '',
      ].join('\n'),
    });
    const oci = `${fresh('image')}.tar`;
    const files = fresh('files');
    const names = vertexNames(dir, ['--secret', `id=tok,src=${secret}`, '-o', `type=oci,dest=${oci}`, '-o', `type=local,dest=${files}`]);
    // A RUN --mount counts as one more source: names carry the stage even in a one-stage file.
    expect(names).toContain('[stage-0  2/11] WORKDIR /w0');
    expect(names).toContain('[stage-0 11/11] RUN --mount=type=secret,id=tok,env=TOKEN [ "****" = "pw" ] && echo "ok $UNSET" > /out.txt');
    expect(readFileSync(join(files, 'out.txt'), 'utf8')).toBe('ok \n');
    expect(JSON.stringify(ociArchiveConfig(oci, fresh('layout')))).not.toContain('"pw"');
  });

  describe('ported from BuildKit', () => {
    it('testExportedHistory: history scoped to the target stage, each entry with a time and its layer flag', () => {
      const dir = context({
        Dockerfile: '\nFROM busybox AS base\nENV foo=bar\nCOPY foo /foo2\nFROM busybox\nLABEL lbl=val\nCOPY --from=base foo2 foo3\nWORKDIR /\nRUN echo bar > foo4\nRUN ["ls"]\nEXPOSE 2375 5000 1234/udp\n',
        foo: 'contents0',
      });
      const { config } = buildImage(dir);
      expect(config.rootfs.type).toBe('layers');
      expect(config.rootfs.diff_ids).toHaveLength(4);
      expect(config.history).toHaveLength(8);
      const h = config.history.slice(2);
      const expected: [string, boolean][] = [
        ['lbl=val', true],
        ['COPY foo2 foo3', false],
        ['WORKDIR /', true],
        ['echo bar > foo4', false],
        ['RUN ls', false],
        ['EXPOSE [1234/udp 2375/tcp 5000/tcp]', true],
      ];
      for (const [i, [text, empty]] of expected.entries()) {
        expect(h[i]!.created_by).toContain(text);
        expect(h[i]!.empty_layer === true).toBe(empty);
        expect(h[i]!.created).toBeDefined();
      }
    });

    it('testExportedHistoryFlattenArgs: an ARG declared twice is listed once in RUN, where first declared, with its last value', () => {
      const { config } = buildImage(context({ Dockerfile: '\nFROM busybox\nARG foo=bar\nARG bar=123\nARG foo=bar2\nRUN ls /etc/\n' }));
      const history = createdBy(config);
      const first = history.indexOf('ARG foo=bar');
      expect(first).toBeGreaterThan(0);
      expect(history).toHaveLength(first + 4);
      expect(history[first + 1]).toContain('ARG bar=123');
      expect(history[first + 2]).toContain('ARG foo=bar2');
      const runLine = history[first + 3]!;
      expect(runLine).toContain('ls /etc/');
      expect(runLine).not.toContain('ARG foo=bar');
      expect(runLine).toContain('RUN |2 foo=bar2 bar=123 ');
    });

    it('testExposeExpansion: EXPOSE words expand to several ports', () => {
      const { config } = buildImage(context({ Dockerfile: '\nFROM scratch\nARG PORTS="3000 4000/udp"\nEXPOSE $PORTS\nEXPOSE 5000\n' }));
      const ports = Object.keys(config.config['ExposedPorts'] as object).sort();
      expect(ports).toEqual(['3000/tcp', '4000/udp', '5000/tcp']);
    });

    it('testBuiltinArgs: proxy args reach RUN undeclared, and changing one alone does not run the step again', () => {
      const dir = context({
        Dockerfile: '\nFROM busybox AS build\nARG FOO\nARG BAR\nARG BAZ=bazcontent\nRUN echo -n $HTTP_PROXY::$NO_PROXY::$FOO::$BAR::$BAZ > /out\nFROM scratch\nCOPY --from=build /out /\n\n',
      });
      const out = (args: Record<string, string>) => {
        const dest = fresh('out');
        expectOk(build(dir, [...Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), '-o', `type=local,dest=${dest}`]));
        return readFileSync(join(dest, 'out'), 'utf8');
      };
      expect(out({ FOO: 'foocontents', http_proxy: 'hpvalue', NO_PROXY: 'npvalue' })).toBe('hpvalue::npvalue::foocontents::::bazcontent');
      // Changed proxy args alone match the old cache.
      expect(out({ FOO: 'foocontents', http_proxy: 'hpvalue2' })).toBe('hpvalue::npvalue::foocontents::::bazcontent');
      // A changed ARG value runs the step again.
      expect(out({ FOO: 'foocontents2', http_proxy: 'hpvalue2' })).toBe('hpvalue2::::foocontents2::::bazcontent');
    });

    it('testMultiArgs: global ARGs given again in a stage, several in one ARG', () => {
      const dir = context({
        Dockerfile: '\nARG a1="foo bar" a2=box\nARG a3="$a2-foo"\nFROM busy$a2 AS build\nARG a3 a4="123 456" a1\nRUN echo -n "$a1:$a3:$a4" > /out\nFROM scratch\nCOPY --from=build /out .\n',
      });
      const dest = fresh('out');
      expectOk(build(dir, ['-o', `type=local,dest=${dest}`]));
      expect(readFileSync(join(dest, 'out'), 'utf8')).toBe('foo bar:box-foo:123 456');
    });

    it('testEmptyStringArgInEnv: an ARG with an empty value is set, one without a value is not', () => {
      const dir = context({ Dockerfile: '\nFROM busybox AS build\nARG FOO\nARG BAR=\nRUN env > env.txt\n\nFROM scratch\nCOPY --from=build env.txt .\n' });
      const dest = fresh('out');
      expectOk(build(dir, ['-o', `type=local,dest=${dest}`]));
      const env = readFileSync(join(dest, 'env.txt'), 'utf8');
      expect(env).toContain('BAR=');
      expect(env).not.toContain('FOO=');
    });

    it('testStepNames: vertices named [stage n/m] as BuildKit names them', () => {
      const dir = context({ Dockerfile: '\nFROM busybox AS base\nWORKDIR /out\nRUN echo "base" > base\nFROM scratch\nCOPY --from=base --chmod=0644 /out /out\n' });
      const dest = fresh('out');
      const names = vertexNames(dir, ['-o', `type=local,dest=${dest}`]);
      expect(names).toContain('[base 3/3] RUN echo "base" > base');
      expect(names).toContain('[stage-1 1/1] COPY --from=base --chmod=0644 /out /out');
      expect(readFileSync(join(dest, 'out', 'base'), 'utf8')).toBe('base\n');
    });

    it('testSecretAsEnviron: a secret given as a variable replaces ENV in RUN, and its name shows ****', () => {
      const secret = join(work, 'mysecret.txt');
      writeFileSync(secret, 'pw');
      const dir = context({
        Dockerfile: '\nFROM busybox\nENV SECRET_ENV=foo\nRUN --mount=type=secret,id=mysecret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ ! -f /run/secrets/mysecret ] || false\n',
      });
      const names = vertexNames(dir, ['--secret', `id=mysecret,src=${secret}`]);
      const run = names.filter((name) => name.includes('/run/secrets/mysecret'));
      expect(run).toHaveLength(1);
      expect(run[0]).toContain('[ "****" == "pw" ] && ');
    });
  });
});
