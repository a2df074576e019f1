import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { parseDockerfile } from '../parser/parse.js';
import { planBuild, type ConvertOptions } from './convert.js';
import type { BuildPlan, Step } from './types.js';

const amd64 = { os: 'linux', architecture: 'amd64' } as const;
const arm7 = { os: 'linux', architecture: 'arm', variant: 'v7' } as const;

function plan(text: string, opts: ConvertOptions = {}): Promise<BuildPlan> {
  return planBuild(parseDockerfile(text, { file: 'Dockerfile' }).ast, { buildPlatform: amd64, ...opts });
}

async function planError(text: string, opts: ConvertOptions = {}): Promise<BuildError> {
  try {
    await plan(text, opts);
  } catch (e) {
    if (e instanceof BuildError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const envOf = (s: Step) => Object.fromEntries(s.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const lastStage = (p: BuildPlan) => p.stages[p.stages.length - 1]!;

describe('ARG scope', () => {
  it('global ARGs reach FROM but a stage only when declared again', async () => {
    const p = await plan('ARG IMG=busybox\nARG V=1\nFROM $IMG:${V}\nRUN echo $V\nARG V\nRUN echo $V\n');
    const s = lastStage(p);
    expect(s.base).toEqual({ kind: 'image', ref: 'busybox:1' });
    expect(envOf(s.steps[0]!).V).toBeUndefined();
    expect(envOf(s.steps[2]!).V).toBe('1');
    expect(s.steps[2]!.args).toEqual([{ key: 'V', value: '1' }]);
  });

  it('--build-arg overrides defaults, globally and in stages', async () => {
    const p = await plan('ARG V=1\nFROM busybox:$V\nARG V\nARG W=default\nRUN true\n', {
      buildArgs: new Map([
        ['V', '2'],
        ['W', 'given'],
      ]),
    });
    const s = lastStage(p);
    expect(s.base).toEqual({ kind: 'image', ref: 'busybox:2' });
    expect(envOf(s.steps[2]!)).toMatchObject({ V: '2', W: 'given' });
  });

  it('ARG values reach the environment of later steps but never the image config', async () => {
    const s = lastStage(await plan('FROM scratch\nARG A=x\nENV B=$A\n'));
    expect(envOf(s.steps[1]!)).toMatchObject({ A: 'x', B: 'x' });
    expect(s.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'B=x']);
  });

  it('gives the automatic platform args to FROM, and to a stage that declares them', async () => {
    const p = await plan('FROM img-$TARGETARCH AS a\nRUN echo $TARGETARCH\nARG TARGETPLATFORM\nARG BUILDARCH\nRUN true\n', {
      targetPlatform: arm7,
    });
    const s = lastStage(p);
    expect(s.base).toEqual({ kind: 'image', ref: 'img-arm' });
    expect(envOf(s.steps[0]!).TARGETARCH).toBeUndefined();
    expect(envOf(s.steps[3]!)).toMatchObject({ TARGETPLATFORM: 'linux/arm/v7', BUILDARCH: 'amd64' });
  });

  it('warns about build args no stage consumes, but not about proxies', async () => {
    const p = await plan('ARG USED\nFROM scratch\n', {
      buildArgs: new Map([
        ['USED', '1'],
        ['UNUSED', '2'],
        ['HTTP_PROXY', 'http://p'],
      ]),
    });
    expect(p.warnings.map((w) => w.message)).toEqual(['build-arg "UNUSED" was not consumed by any stage']);
  });
});

describe('expansion', () => {
  it('expands ENV pairs with the environment from before the instruction', async () => {
    const s = lastStage(await plan('FROM scratch\nENV A=1\nENV A=2 B=$A\n'));
    expect(envOf(s.steps[1]!)).toMatchObject({ A: '2', B: '1' });
  });

  it('chains relative WORKDIRs and expands them', async () => {
    const s = lastStage(await plan('FROM scratch\nENV D=dir\nWORKDIR /a\nWORKDIR b/$D\nWORKDIR ../c/\n'));
    expect(s.config.WorkingDir).toBe('/a/b/c');
    expect(s.steps[3]!.workdir).toBe('/a/b/c');
  });

  it('expands EXPOSE ranges into the config', async () => {
    const s = lastStage(await plan('FROM scratch\nARG P=80\nEXPOSE $P 8000-8002/udp\n'));
    expect(Object.keys(s.config.ExposedPorts!).sort()).toEqual(['80/tcp', '8000/udp', '8001/udp', '8002/udp']);
  });

  it('does not expand RUN, CMD or ENTRYPOINT, and prepends SHELL to shell forms', async () => {
    const s = lastStage(await plan('FROM scratch\nENV A=1\nSHELL ["/bin/bash", "-eu", "-c"]\nCMD echo $A\nRUN echo $A\n'));
    expect(s.config.Cmd).toEqual(['/bin/bash', '-eu', '-c', 'echo $A']);
    const run = s.steps[3]!;
    expect(run.instruction.kind === 'run' && run.instruction.args).toEqual(['echo $A']);
    expect(run.shell).toEqual(['/bin/bash', '-eu', '-c']);
  });

  it('reports ${a:?msg} at the instruction', async () => {
    const e = await planError('FROM scratch\nWORKDIR ${NOPE:?must be set}\n');
    expect(e.code).toBe('REQUIRED_VARIABLE');
    expect(e.message).toContain('must be set');
    expect(e.range?.start.line).toBe(2);
  });

  it('rejects a FROM that expands to nothing', async () => {
    const e = await planError('ARG IMG\nFROM $IMG\n');
    expect(e.message).toBe('base name ($IMG) should not be blank');
    expect(e.range?.start.line).toBe(2);
  });
});

describe('stages', () => {
  const multi = 'FROM scratch AS base\nENV FROM_BASE=1\nONBUILD ENV TRIGGERED=yes\nFROM base AS Build\nRUN make\nFROM scratch AS unused\nFROM scratch\nCOPY --from=BUILD /out /out\nCOPY --from=0 /a /a\nCOPY --from=alpine:3 /b /b\n';

  it('builds only the stages the target needs, in order', async () => {
    const p = await plan(multi);
    expect(p.stages.map((s) => s.index)).toEqual([0, 1, 3]);
    expect(p.target).toBe(3);
    const final = lastStage(p);
    expect(final.dependsOn).toEqual([0, 1]);
    expect(final.steps.map((s) => s.from)).toEqual([
      { kind: 'stage', stage: 1 },
      { kind: 'stage', stage: 0 },
      { kind: 'image', ref: 'alpine:3' },
    ]);
  });

  it('inherits the parent stage config and runs its ONBUILD triggers first', async () => {
    const p = await plan(multi, { target: 'build' });
    expect(p.stages.map((s) => s.index)).toEqual([0, 1]);
    const build = lastStage(p);
    expect(build.base).toEqual({ kind: 'stage', stage: 0 });
    expect(build.steps[0]!.onbuild).toBe(true);
    expect(build.config.Env).toContain('TRIGGERED=yes');
    expect(build.config.Env).toContain('FROM_BASE=1');
    expect(build.config.OnBuild ?? []).toEqual([]);
  });

  it('names an unknown target with a suggestion', async () => {
    const e = await planError(multi, { target: 'buidl' });
    expect(e.message).toBe('target stage "buidl" could not be found');
    expect(e.hint).toBe('did you mean "build"?');
  });

  it('rejects duplicate names, references to later stages, cycles and bad indexes', async () => {
    expect((await planError('FROM scratch AS a\nFROM scratch AS A\n')).message).toBe('duplicate stage name "a"');
    const later = await planError('FROM scratch\nCOPY --from=later /x /x\nFROM scratch AS later\n', { target: undefined });
    expect(later.message).toBe('stage "later" is used before it is defined');
    expect(later.range?.start.line).toBe(2);
    expect((await planError('FROM scratch AS a\nCOPY --from=a /x /x\n')).message).toBe('circular dependency detected on stage: a');
    expect((await planError('FROM scratch\nCOPY --from=5 /x /x\n')).message).toBe('invalid stage index 5');
  });

  it('refuses variable expansion in COPY --from, as BuildKit does', async () => {
    const e = await planError('FROM scratch AS a\nFROM scratch\nARG S=a\nCOPY --from=$S /x /x\n');
    expect(e.message).toContain('variable expansion is not supported for --from');
  });

  it('resolves RUN --mount from= to stages and images', async () => {
    const p = await plan('FROM scratch AS tools\nFROM scratch\nRUN --mount=from=tools,target=/t --mount=type=cache,target=/c --mount=type=bind,from=busybox,target=/b true\n');
    const run = lastStage(p).steps[0]!;
    expect(run.mounts?.map((m) => m.source)).toEqual([
      { kind: 'stage', stage: 0 },
      { kind: 'scratch' },
      { kind: 'image', ref: 'busybox' },
    ]);
    expect(lastStage(p).dependsOn).toEqual([0]);
  });

  it('starts from the image config given by the resolver', async () => {
    const p = await plan('FROM base:1\nWORKDIR sub\nRUN true\n', {
      resolveImage: async () => ({ config: { Env: ['PATH=/x', 'GOPATH=/go'], WorkingDir: '/go', OnBuild: ['RUN echo hi'] } }),
    });
    const s = lastStage(p);
    expect(s.steps[0]!.onbuild).toBe(true);
    expect(s.config.WorkingDir).toBe('/go/sub');
    expect(envOf(s.steps[2]!)).toMatchObject({ PATH: '/x', GOPATH: '/go' });
  });

  it('requires instructions to follow a FROM', async () => {
    const e = await planError('RUN true\nFROM scratch\n');
    expect(e.message).toBe('no build stage in current context');
  });
});

describe('named build contexts', () => {
  // The caller normalises names; here a context named `alpine` matches only that text.
  const named = (keys: Record<string, ImageConfigLike | undefined>): ConvertOptions => ({
    namedContexts: {
      match: (name) => (name in keys ? name : undefined),
      image: async (key) => (keys[key] === undefined ? undefined : { config: keys[key] }),
    },
  });
  type ImageConfigLike = { Env?: string[]; OnBuild?: string[] };

  it('replaces FROM, COPY --from and RUN --mount from= of an image of that name', async () => {
    const p = await plan('FROM alpine\nCOPY --from=alpine /a /a\nRUN --mount=from=alpine,target=/m true\n', named({ alpine: { Env: ['X=1'] } }));
    const s = lastStage(p);
    expect(s.base).toEqual({ kind: 'named', name: 'alpine' });
    expect(envOf(s.steps[0]!).X).toBe('1');
    expect(s.steps[0]!.from).toEqual({ kind: 'named', name: 'alpine' });
    expect(s.steps[1]!.mounts![0]!.source).toEqual({ kind: 'named', name: 'alpine' });
  });

  it('replaces a whole stage of the same name, whose instructions never run (BuildKit: the context wins)', async () => {
    const p = await plan('FROM busybox AS build\nRUN exit 1\nFROM build AS next\nCOPY --from=build /x /x\n', named({ build: undefined }));
    expect(p.stages.map((s) => s.index)).toEqual([1]);
    expect(lastStage(p).base).toEqual({ kind: 'named', name: 'build' });
    expect(lastStage(p).steps[0]!.from).toEqual({ kind: 'named', name: 'build' });
    const target = await plan('FROM busybox AS build\nRUN exit 1\n', { ...named({ build: { Env: ['A=b'] } }), target: 'build' });
    expect(lastStage(target).steps).toEqual([]);
    expect(lastStage(target).config).toEqual({ Env: ['A=b'] });
  });

  it('runs the ONBUILD triggers of a context image used as a base, and leaves scratch alone', async () => {
    const p = await plan('FROM base\n', named({ base: { OnBuild: ['RUN echo hi'] } }));
    expect(lastStage(p).steps.map((s) => s.instruction.kind)).toEqual(['run']);
    expect(lastStage(await plan('FROM scratch\n', named({ scratch: undefined }))).base).toEqual({ kind: 'scratch' });
  });
});

describe('image config and scope as BuildKit leaves them', () => {
  const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

  it('starts FROM scratch from the empty image: WorkingDir / and PATH', async () => {
    expect(lastStage(await plan('FROM scratch\n')).config).toEqual({ Env: [PATH], WorkingDir: '/', OnBuild: null });
    // A directory given as a build context and used as the base is the empty image too.
    const named = await plan('FROM ctx\n', { namedContexts: { match: (n) => (n === 'ctx' ? n : undefined), image: async () => undefined } });
    expect(lastStage(named).config).toMatchObject({ Env: [PATH], WorkingDir: '/' });
  });

  it('MAINTAINER sets the author; a stage FROM another keeps it, a base image hands its own down', async () => {
    const p = await plan('FROM scratch AS a\nMAINTAINER Jane Doe <jane@example.com>\nFROM a\nRUN true\n');
    expect(p.stages.map((s) => s.author)).toEqual(['Jane Doe <jane@example.com>', 'Jane Doe <jane@example.com>']);
    const img = await plan('FROM base\n', { resolveImage: async () => ({ config: {}, author: 'Base <b@x>' }) });
    expect(lastStage(img).author).toBe('Base <b@x>');
    expect(lastStage(await plan('FROM scratch\n')).author).toBeUndefined();
  });

  it("a stage FROM another keeps the parent's ARGs in scope, with their values, first", async () => {
    const p = await plan('FROM scratch AS base\nARG SHARED=one\nARG EMPTY\nFROM base\nARG OWN=two\nRUN echo $SHARED\nARG SHARED\nRUN true\nARG SHARED=three\nRUN true\n');
    const s = lastStage(p);
    expect(envOf(s.steps[1]!)).toMatchObject({ SHARED: 'one', OWN: 'two' });
    expect(s.steps[1]!.args).toEqual([{ key: 'SHARED', value: 'one' }, { key: 'EMPTY' }, { key: 'OWN', value: 'two' }]);
    // Declared again without a value: the inherited value stays.
    expect(envOf(s.steps[3]!).SHARED).toBe('one');
    expect(s.steps[2]!.instruction).toMatchObject({ kind: 'arg', args: [{ key: 'SHARED' }] });
    expect(envOf(s.steps[5]!).SHARED).toBe('three');
    // The parent's ARG values never reach the child's image config.
    expect(s.config.Env).toEqual([PATH]);
  });

  it('lists the environment in the order variables were last set (BuildKit state), the image Env in place', async () => {
    const s = lastStage(await plan('FROM scratch\nENV A=1 B=2\nARG A=3\nRUN true\n'));
    expect(s.steps[2]!.env).toEqual([PATH, 'B=2', 'A=3']);
    expect(s.config.Env).toEqual([PATH, 'A=1', 'B=2']);
  });

  it('gives RUN every proxy build arg in both letter cases, never in the plan of the image', async () => {
    const p = await plan('FROM scratch\nRUN true\n', {
      buildArgs: new Map([
        ['http_proxy', 'http://lower'],
        ['HTTP_PROXY', 'http://upper'],
        ['No_Proxy', 'localhost'],
        ['ftp_proxy', ''],
      ]),
    });
    expect(p.proxyEnv).toEqual(['HTTP_PROXY=http://lower', 'http_proxy=http://lower', 'NO_PROXY=localhost', 'no_proxy=localhost']);
    expect(lastStage(p).steps[0]!.env).toEqual([PATH]);
    expect(p.warnings).toEqual([]);
  });

  it('titles RUN, COPY and WORKDIR steps with their variables expanded, secrets given as env masked', async () => {
    const p = await plan(
      'FROM scratch\nENV DIR=/app\nWORKDIR $DIR\nCOPY "a" $DIR/\nRUN --mount=type=secret,id=tok,env=TOKEN echo "$DIR" $TOKEN $UNSET\nrun <<EOF\necho one\necho two\nEOF\n',
    );
    expect(lastStage(p).steps.map((s) => s.title)).toEqual([
      undefined,
      'WORKDIR /app',
      'COPY a /app/',
      'RUN --mount=type=secret,id=tok,env=TOKEN echo "/app" **** $UNSET',
      'RUN <<EOF (echo one...)',
    ]);
  });

  it('names vertices by stage unless one stage reads nothing else', async () => {
    expect((await plan('FROM scratch\nRUN true\n')).namesWithStage).toBe(false);
    expect((await plan('FROM scratch\nRUN --mount=type=cache,target=/c true\n')).namesWithStage).toBe(true);
    expect((await plan('FROM scratch\nCOPY --from=busybox /a /a\n')).namesWithStage).toBe(true);
    expect((await plan('FROM scratch AS a\nFROM scratch\n', { target: 'a' })).namesWithStage).toBe(true);
  });
});

describe('ADD --checksum', () => {
  it('testAddChecksum/NonHTTPSource: refused for a local source, with the instruction\'s range', async () => {
    const e = await planError('FROM scratch\nENV SUM=sha256:0123\nADD --checksum=$SUM foo /tmp/foo\n');
    expect(e).toMatchObject({ code: 'BAD_INSTRUCTION', message: 'checksum requires HTTP(S) or Git sources' });
    expect(e.range?.start).toEqual({ line: 3, column: 1 });
    expect((await planError('FROM scratch\nADD --checksum=sha256:0123 https://e.x/a https://e.x/b /\n')).message).toBe(
      "checksum can't be specified for multiple sources",
    );
    // A URL or a git repository may carry one (fetching them is another matter).
    await expect(plan('FROM scratch\nADD --checksum=sha256:0123 https://example.com/a /a\n')).resolves.toBeDefined();
    await expect(plan('FROM scratch\nADD --checksum=abc https://github.com/x/y.git#main /src\n')).resolves.toBeDefined();
  });
});
