import { describe, expect, it } from 'vitest';
import type { ParseWarning } from '../parser/ast.js';
import { parseInstruction, parseInstructions } from './index.js';
import type { Instruction } from './types.js';
import { lastNode, nodes, thrown } from './testing.js';
import { parseDockerfile } from '../index.js';

const parse = (src: string): Instruction => parseInstruction(lastNode(src));
const fails = (src: string): ReturnType<typeof thrown> => thrown(() => parse(src));
/** Drop the location fields to compare the rest. */
function data(i: Instruction): Record<string, unknown> {
  const { range, keywordRange, original, ...rest } = i;
  void range, void keywordRange, void original;
  return rest;
}

describe('common fields', () => {
  it('keeps range, keyword range and the trimmed original', () => {
    const i = parse('FROM a\n  USER  bob  \n');
    expect(i.original).toBe('USER  bob');
    expect(i.range.start).toEqual({ line: 2, column: 3 });
    expect(i.keywordRange.start).toEqual({ line: 2, column: 3 });
    expect(i.keywordRange.end).toEqual({ line: 2, column: 7 });
  });

  it('parses a whole file in order', () => {
    const all = parseInstructions(parseDockerfile('ARG X\nFROM a\nRUN b\n').ast);
    expect(all.map((i) => i.kind)).toEqual(['arg', 'from', 'run']);
  });
});

describe('unknown instruction', () => {
  it('names the keyword as written, suggests, and points at the keyword', () => {
    expect(fails('FROM a\nRUNN x\n')).toEqual({
      code: 'UNKNOWN_INSTRUCTION', message: 'unknown instruction: RUNN', hint: 'did you mean "RUN"?', range: '2:1-2:5',
    });
    expect(fails('FROM a\ncopyy x y\n').hint).toBe('did you mean "copy"?');
    expect(fails('FROM a\nFOOBAR x\n')).toMatchObject({ message: 'unknown instruction: FOOBAR' });
    expect(fails('FROM a\nFOOBAR x\n').hint).toBeUndefined();
  });
});

describe('flags', () => {
  it('rejects unknown flags with a suggestion at the flag', () => {
    expect(fails('FROM a\nCOPY --form=x a b\n')).toEqual({
      code: 'BAD_FLAG', message: 'unknown flag: --form', hint: 'did you mean "from"?', range: '2:6-2:14',
    });
  });
  it('rejects a flag on an instruction that takes none', () => {
    expect(fails('FROM a\nWORKDIR --x=1 /a\n')).toMatchObject({ code: 'BAD_FLAG', message: 'unknown flag: --x', range: '2:9-2:14' });
    expect(fails('FROM a\nENV --chown=1 A=b\n')).toMatchObject({ message: 'unknown flag: --chown' });
    expect(fails('FROM a\nRUN --from=x echo\n')).toMatchObject({ message: 'unknown flag: --from' });
  });
  it('checks boolean values', () => {
    expect(data(parse('FROM a\nCOPY --link=FALSE a b\n'))).toMatchObject({ link: false });
    expect(data(parse('FROM a\nCOPY --link=True a b\n'))).toMatchObject({ link: true });
    expect(fails('FROM a\nCOPY --link=yes a b\n')).toMatchObject({
      code: 'BAD_FLAG', message: 'expecting boolean value for flag --link, not: yes', range: '2:6-2:16',
    });
    expect(fails('FROM a\nCOPY --link= a b\n')).toMatchObject({ message: 'missing a value on flag: --link' });
  });
  it('requires values on string flags', () => {
    expect(fails('FROM a\nCOPY --from a b\n')).toMatchObject({ code: 'BAD_FLAG', message: 'missing a value on flag: --from' });
    expect(fails('FROM a\nCOPY --exclude a b\n')).toMatchObject({ message: 'missing a value on flag: --exclude' });
  });
  it('rejects a repeated single-valued flag but collects repeatable ones', () => {
    expect(fails('FROM a\nCOPY --from=a --from=b a b\n')).toMatchObject({
      message: 'duplicate flag specified: --from', range: '2:15-2:23',
    });
    expect(data(parse('FROM a\nCOPY --exclude=*.md --exclude=x a b\n'))).toMatchObject({ exclude: ['*.md', 'x'] });
  });
});

describe('FROM', () => {
  it('reads image, stage name (lower-cased) and platform', () => {
    expect(data(parse('FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n'))).toEqual({
      kind: 'from', image: 'golang:1.22', stageName: 'build', platform: '$BUILDPLATFORM',
    });
    expect(data(parse('FROM alpine\n'))).toEqual({ kind: 'from', image: 'alpine' });
    expect(data(parse('from alpine as x.y_z-1\n'))).toMatchObject({ stageName: 'x.y_z-1' });
  });
  it('checks argument count and the AS word', () => {
    expect(fails('FROM a b\n')).toMatchObject({ code: 'BAD_INSTRUCTION', message: 'FROM requires either one or three arguments', range: '1:1-1:9' });
    expect(fails('FROM a FOR b\n')).toMatchObject({ message: 'FROM requires either one or three arguments' });
    expect(fails('FROM a AS b c\n')).toMatchObject({ message: 'FROM requires either one or three arguments' });
  });
  it('checks the stage name', () => {
    expect(fails('FROM a AS 1st\n')).toMatchObject({
      code: 'BAD_STAGE', message: 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
    });
    expect(fails('FROM a AS a$b\n').code).toBe('BAD_STAGE');
  });
  it('checks the stage name before the flags', () => {
    expect(fails('FROM --bad=1 a b\n').message).toBe('FROM requires either one or three arguments');
    expect(fails('FROM --bad=1 a\n').message).toBe('unknown flag: --bad');
  });
  it('reports BuildKit lint warnings', () => {
    const warnings: ParseWarning[] = [];
    parseInstruction(lastNode('FROM a as Build\n'), { warn: (w) => warnings.push(w) });
    parseInstruction(lastNode('FROM a AS b\n'), { warn: (w) => warnings.push(w) });
    parseInstruction(lastNode('from a AS b\n'), { warn: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.code, w.message])).toEqual([
      ['StageNameCasing', "Stage name 'Build' should be lowercase"],
      ['FromAsCasing', "'as' and 'FROM' keywords' casing do not match"],
      ['FromAsCasing', "'AS' and 'from' keywords' casing do not match"],
    ]);
  });
});

describe('RUN', () => {
  it('shell form joins words and prepends the shell; exec form keeps the array', () => {
    expect(data(parse('FROM a\nRUN echo  hi\n'))).toMatchObject({ args: ['echo  hi'], prependShell: true, files: [] });
    expect(data(parse('FROM a\nRUN ["echo", "hi"]\n'))).toMatchObject({ args: ['echo', 'hi'], prependShell: false });
  });
  it('collects mounts in order with defaults for the other flags', () => {
    const run = parse('FROM a\nRUN --mount=type=cache,target=/c --mount=type=bind,from=x,target=/b make\n');
    expect(data(run)).toMatchObject({
      mounts: ['type=cache,target=/c', 'type=bind,from=x,target=/b'],
      network: 'default', security: 'sandbox', devices: [], flagsUsed: ['mount'],
    });
  });
  it('validates --network and --security', () => {
    expect(data(parse('FROM a\nRUN --network=none --security=insecure x\n'))).toMatchObject({ network: 'none', security: 'insecure' });
    expect(data(parse('FROM a\nRUN --network=host x\n'))).toMatchObject({ network: 'host' });
    expect(fails('FROM a\nRUN --network=bridge x\n')).toMatchObject({
      code: 'BAD_FLAG', message: 'invalid network mode "bridge"', range: '2:5-2:21',
    });
    expect(fails('FROM a\nRUN --security=root x\n')).toMatchObject({ code: 'BAD_FLAG', message: 'security "root" is not valid', range: '2:5-2:20' });
    expect(fails('FROM a\nRUN --network x\n').message).toBe('missing a value on flag: --network');
  });
  it('parses --device', () => {
    expect(data(parse('FROM a\nRUN --device=vendor.com/gpu=all,required x\n'))).toMatchObject({
      devices: [{ name: 'vendor.com/gpu=all', required: true }],
    });
    expect(fails('FROM a\nRUN --device=a,b x\n')).toMatchObject({ message: "invalid field 'b' must be a key=value pair", range: '2:5-2:17' });
  });
  it('checks mount syntax at parse time, at the mount flag', () => {
    expect(fails('FROM a\nRUN --mount=type=bind,from=$X x\n')).toMatchObject({
      code: 'BAD_FLAG', message: "'from' doesn't support variable expansion, define alias stage instead", range: '2:5-2:30',
    });
    expect(fails('FROM a\nRUN --mount=a\\"b x\n').message).toBe('failed to parse csv mounts: parse error on line 1, column 2: bare " in non-quoted-field');
    // Unknown keys are only found once values are expanded (conversion time).
    expect(parse('FROM a\nRUN --mount=bogus=1 x\n').kind).toBe('run');
  });
  it('keeps heredoc files unchomped with their flags', () => {
    const run = parse('FROM a\nRUN <<-EOF cat\n\techo hi\nEOF\n');
    expect(data(run)).toMatchObject({
      args: ['<<-EOF cat'], prependShell: true, files: [{ name: 'EOF', data: '\techo hi\n', chomp: true, expand: true }],
    });
    const quoted = parse("FROM a\nRUN <<'EOF'\n$X\nEOF\n");
    expect(data(quoted)).toMatchObject({ files: [{ name: 'EOF', data: '$X\n', expand: false, chomp: false }] });
  });
});

describe('CMD and ENTRYPOINT', () => {
  it('parse both forms and reject flags', () => {
    expect(data(parse('FROM a\nCMD ["a", "b"]\n'))).toEqual({ kind: 'cmd', args: ['a', 'b'], prependShell: false, files: [] });
    expect(data(parse('FROM a\nCMD a b\n'))).toEqual({ kind: 'cmd', args: ['a b'], prependShell: true, files: [] });
    expect(data(parse('FROM a\nCMD []\n'))).toMatchObject({ args: [] });
    expect(data(parse('FROM a\nENTRYPOINT ["x"]\n'))).toEqual({ kind: 'entrypoint', args: ['x'], prependShell: false, files: [] });
    expect(fails('FROM a\nCMD --x=1 a\n').message).toBe('unknown flag: --x');
  });
});

describe('SHELL', () => {
  it('requires the JSON form', () => {
    expect(data(parse('FROM a\nSHELL ["/bin/bash", "-c"]\n'))).toEqual({ kind: 'shell', shell: ['/bin/bash', '-c'] });
    expect(fails('FROM a\nSHELL /bin/bash -c\n')).toMatchObject({
      code: 'BAD_JSON', message: 'SHELL requires the arguments to be in JSON form', range: '2:1-2:19',
    });
    expect(fails('FROM a\nSHELL []\n')).toMatchObject({ code: 'MISSING_ARGUMENT', message: 'SHELL requires at least one argument' });
  });
});

describe('ENV and LABEL', () => {
  it('read the triples', () => {
    expect(data(parse('FROM a\nENV A=1 B="2 3"\n'))).toEqual({
      kind: 'env', env: [{ key: 'A', value: '1', noDelim: false }, { key: 'B', value: '"2 3"', noDelim: false }],
    });
    expect(data(parse('FROM a\nENV A 1 2\n'))).toEqual({ kind: 'env', env: [{ key: 'A', value: '1 2', noDelim: true }] });
    expect(data(parse('FROM a\nLABEL a.b=c "d e"=f\n'))).toEqual({
      kind: 'label', labels: [{ key: 'a.b', value: 'c', noDelim: false }, { key: '"d e"', value: 'f', noDelim: false }],
    });
  });
  it('reject flags', () => {
    expect(fails('FROM a\nLABEL --x=1 a=b\n').code).toBe('BAD_FLAG');
  });
});

describe('ARG', () => {
  it('reads names and optional values, with doc comments', () => {
    expect(data(parse('# VERSION the version to build\nARG VERSION=1.2 EMPTY= PLAIN\n'))).toEqual({
      kind: 'arg',
      args: [{ key: 'VERSION', value: '1.2', docComment: 'the version to build' }, { key: 'EMPTY', value: '' }, { key: 'PLAIN' }],
    });
    expect(data(parse('ARG A=b=c\n'))).toEqual({ kind: 'arg', args: [{ key: 'A', value: 'b=c' }] });
  });
  it('rejects blank names and ignores flags, as BuildKit does', () => {
    expect(fails('ARG =x\n')).toMatchObject({ code: 'BAD_INSTRUCTION', message: 'ARG names can not be blank', range: '1:1-1:7' });
    expect(data(parse('ARG --foo x=1\n'))).toEqual({ kind: 'arg', args: [{ key: 'x', value: '1' }] });
  });
});

describe('COPY and ADD', () => {
  it('COPY reads sources, destination and every flag', () => {
    const c = parse('FROM a\nCOPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md a b /dst/\n');
    expect(data(c)).toEqual({
      kind: 'copy', sources: ['a', 'b'], heredocSources: [], dest: '/dst/', from: 'build', chown: '1:2', chmod: '0755',
      link: true, parents: true, exclude: ['*.md'],
    });
    expect(data(parse('FROM a\nCOPY ["a b", "c"]\n'))).toMatchObject({ sources: ['a b'], dest: 'c', link: false, parents: false });
    expect(data(parse('FROM a\nCOPY --from= a b\n'))).not.toHaveProperty('from');
  });
  it('ADD reads its flags, distinguishing unset booleans', () => {
    const a = parse('FROM a\nADD --keep-git-dir=false --checksum=sha256:abc --unpack --chmod=u+x --exclude=x https://e/x.tgz /\n');
    expect(data(a)).toEqual({
      kind: 'add', sources: ['https://e/x.tgz'], heredocSources: [], dest: '/', chmod: 'u+x', link: false,
      exclude: ['x'], keepGitDir: false, checksum: 'sha256:abc', unpack: true,
    });
    const plain = data(parse('FROM a\nADD a b\n'));
    expect(plain).not.toHaveProperty('keepGitDir');
    expect(plain).not.toHaveProperty('unpack');
    expect(fails('FROM a\nADD --from=x a b\n').message).toBe('unknown flag: --from');
    expect(fails('FROM a\nCOPY --checksum=x a b\n').message).toBe('unknown flag: --checksum');
  });
  it('require a destination before reading flags', () => {
    expect(fails('FROM a\nCOPY --bogus=1 a\n')).toMatchObject({
      code: 'MISSING_ARGUMENT',
      message: 'COPY requires at least two arguments, but only one was provided. Destination could not be determined',
      range: '2:1-2:17',
    });
    expect(fails('FROM a\nADD a\n').message).toMatch(/^ADD requires at least two arguments/);
  });
  it('turn heredoc sources into inline files (chomped) and refuse a heredoc destination', () => {
    const c = parse('FROM a\nCOPY <<-EOF <<"RAW" x /dst/\n\t\thello $X\nEOF\n$Y\nRAW\n');
    expect(data(c)).toMatchObject({
      sources: ['x'], dest: '/dst/',
      heredocSources: [
        { path: 'EOF', data: 'hello $X\n', expand: true, chomp: true },
        { path: 'RAW', data: '$Y\n', expand: false, chomp: false },
      ],
    });
    expect(data(parse('FROM a\nADD <<EOF /f\nx\nEOF\n'))).toMatchObject({ heredocSources: [{ path: 'EOF', data: 'x\n' }] });
    expect(fails('FROM a\nCOPY a <<EOF\nx\nEOF\n')).toMatchObject({
      code: 'BAD_INSTRUCTION', message: 'COPY cannot accept a heredoc as a destination',
    });
  });
});

describe('single-argument instructions', () => {
  it('WORKDIR, USER, MAINTAINER, STOPSIGNAL', () => {
    expect(data(parse('FROM a\nWORKDIR /a b\n'))).toEqual({ kind: 'workdir', path: '/a b' });
    expect(data(parse('FROM a\nUSER 1000:1000\n'))).toEqual({ kind: 'user', user: '1000:1000' });
    expect(data(parse('FROM a\nSTOPSIGNAL SIGKILL\n'))).toEqual({ kind: 'stopsignal', signal: 'SIGKILL' });
    expect(data(parse('FROM a\nMAINTAINER Jo <jo@x>\n'))).toEqual({ kind: 'maintainer', maintainer: 'Jo <jo@x>' });
  });
  it('report missing arguments at the instruction', () => {
    for (const name of ['WORKDIR', 'USER', 'STOPSIGNAL']) {
      expect(fails(`FROM a\n${name}\n`)).toMatchObject({ code: 'MISSING_ARGUMENT', message: `${name} requires exactly one argument`, range: `2:1-2:${name.length + 1}` });
    }
  });
  it('MAINTAINER warns', () => {
    const warnings: ParseWarning[] = [];
    parseInstruction(lastNode('FROM a\nMAINTAINER me\n'), { warn: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).toEqual(['MaintainerDeprecated']);
  });
  it('STOPSIGNAL ignores flags as BuildKit does', () => {
    expect(data(parse('FROM a\nSTOPSIGNAL --x=1 TERM\n'))).toEqual({ kind: 'stopsignal', signal: 'TERM' });
  });
});

describe('EXPOSE and VOLUME', () => {
  it('EXPOSE keeps raw words, sorted', () => {
    expect(data(parse('FROM a\nEXPOSE 8080 443/udp $PORT 80\n'))).toEqual({ kind: 'expose', ports: ['$PORT', '443/udp', '80', '8080'] });
    expect(fails('FROM a\nEXPOSE\n')).toMatchObject({ code: 'MISSING_ARGUMENT', message: 'EXPOSE requires at least one argument' });
  });
  it('VOLUME reads both forms and rejects empty paths', () => {
    expect(data(parse('FROM a\nVOLUME /a /b\n'))).toEqual({ kind: 'volume', paths: ['/a', '/b'] });
    expect(data(parse('FROM a\nVOLUME [" /a ", "/b"]\n'))).toEqual({ kind: 'volume', paths: ['/a', '/b'] });
    expect(fails('FROM a\nVOLUME [" "]\n')).toMatchObject({ code: 'BAD_INSTRUCTION', message: 'VOLUME specified can not be an empty string' });
    expect(fails('FROM a\nVOLUME []\n')).toMatchObject({ message: 'VOLUME requires at least one argument' });
  });
});

describe('HEALTHCHECK', () => {
  it('NONE takes nothing and reads no flags', () => {
    expect(data(parse('FROM a\nHEALTHCHECK NONE\n'))).toEqual({ kind: 'healthcheck', health: { test: ['NONE'] } });
    expect(data(parse('FROM a\nHEALTHCHECK --bogus=1 none\n'))).toEqual({ kind: 'healthcheck', health: { test: ['NONE'] } });
    expect(fails('FROM a\nHEALTHCHECK NONE x\n')).toMatchObject({ code: 'BAD_INSTRUCTION', message: 'HEALTHCHECK NONE takes no arguments' });
  });
  it('CMD in both forms with durations in nanoseconds', () => {
    const h = parse('FROM a\nHEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD curl -f x\n');
    expect(data(h)).toEqual({
      kind: 'healthcheck',
      health: {
        test: ['CMD-SHELL', 'curl -f x'], interval: 30e9, timeout: 90e9, startPeriod: 1.5e9, startInterval: 500e6, retries: 3,
      },
    });
    expect(data(parse('FROM a\nHEALTHCHECK cmd ["a", "b"]\n'))).toEqual({ kind: 'healthcheck', health: { test: ['CMD', 'a', 'b'] } });
    expect(data(parse('FROM a\nHEALTHCHECK --interval=0s --retries=0 CMD x\n'))).toEqual({ kind: 'healthcheck', health: { test: ['CMD-SHELL', 'x'] } });
  });
  it('reports BuildKit errors', () => {
    expect(fails('FROM a\nHEALTHCHECK\n')).toMatchObject({ code: 'MISSING_ARGUMENT', message: 'HEALTHCHECK requires at least one argument' });
    expect(fails('FROM a\nHEALTHCHECK CMD\n').message).toBe('Missing command after HEALTHCHECK CMD');
    expect(fails('FROM a\nHEALTHCHECK foo x\n').message).toBe('Unknown type "FOO" in HEALTHCHECK (try CMD)');
    expect(fails('FROM a\nHEALTHCHECK --interval=10 CMD x\n')).toMatchObject({
      code: 'BAD_FLAG', message: 'time: missing unit in duration "10"', range: '2:13-2:26',
    });
    expect(fails('FROM a\nHEALTHCHECK --timeout=1x CMD x\n').message).toBe('time: unknown unit "x" in duration "1x"');
    expect(fails('FROM a\nHEALTHCHECK --start-period=100us CMD x\n').message).toBe('Interval "start-period" cannot be less than 1ms');
    expect(fails('FROM a\nHEALTHCHECK --interval=-1s CMD x\n').message).toBe('Interval "interval" cannot be less than 1ms');
    expect(fails('FROM a\nHEALTHCHECK --retries=-1 CMD x\n')).toMatchObject({ message: '--retries cannot be negative (-1)', range: '2:13-2:25' });
    expect(fails('FROM a\nHEALTHCHECK --retries=x CMD x\n').message).toBe('strconv.ParseInt: parsing "x": invalid syntax');
    expect(fails('FROM a\nHEALTHCHECK --retries=3000000000 CMD x\n').message).toBe('strconv.ParseInt: parsing "3000000000": value out of range');
    expect(fails('FROM a\nHEALTHCHECK --retires=1 CMD x\n')).toMatchObject({ message: 'unknown flag: --retires', hint: 'did you mean "retries"?' });
  });
});

describe('ONBUILD', () => {
  it('keeps the expression and parses the trigger', () => {
    const o = parse('FROM a\nONBUILD RUN --mount=type=cache,target=/c make\n');
    expect(o.kind).toBe('onbuild');
    if (o.kind !== 'onbuild') return;
    expect(o.expression).toBe('RUN --mount=type=cache,target=/c make');
    expect(o.trigger.ok && o.trigger.instruction).toMatchObject({ kind: 'run', args: ['make'], mounts: ['type=cache,target=/c'] });
  });
  it('appends heredoc bodies to the expression and parses them into the trigger', () => {
    const o = parse('FROM a\nonbuild COPY <<EOF /f\nhi\nEOF\n');
    if (o.kind !== 'onbuild') throw new Error('not onbuild');
    expect(o.expression).toBe('COPY <<EOF /f\nhi\nEOF');
    expect(o.trigger.ok && o.trigger.instruction).toMatchObject({ kind: 'copy', heredocSources: [{ path: 'EOF', data: 'hi\n' }] });
  });
  it('keeps a bad trigger as data: BuildKit checks it only when the image is used', () => {
    const o = parse('FROM a\nONBUILD COPY --bogus=1 a b\n');
    if (o.kind !== 'onbuild') throw new Error('not onbuild');
    expect(o.trigger).toMatchObject({ ok: false, error: { code: 'BAD_FLAG', message: 'unknown flag: --bogus' } });
    const unknown = parse('FROM a\nONBUILD FOO x\n');
    expect(unknown.kind === 'onbuild' && unknown.trigger).toMatchObject({ ok: false, error: { code: 'UNKNOWN_INSTRUCTION' } });
  });
  it('rejects chaining, FROM and MAINTAINER triggers, flags, and an empty ONBUILD', () => {
    expect(fails('FROM a\nONBUILD ONBUILD RUN x\n')).toMatchObject({
      code: 'BAD_INSTRUCTION', message: 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', range: '2:1-2:22',
    });
    expect(fails('FROM a\nONBUILD from b\n').message).toBe("FROM isn't allowed as an ONBUILD trigger");
    expect(fails('FROM a\nONBUILD MAINTAINER me\n').message).toBe("MAINTAINER isn't allowed as an ONBUILD trigger");
    expect(fails('FROM a\nONBUILD\n')).toMatchObject({ code: 'MISSING_ARGUMENT', message: 'ONBUILD requires at least one argument' });
    expect(fails('FROM a\nONBUILD --x COPY a b\n').message).toBe('unknown flag: --x');
  });
});

describe('every instruction kind', () => {
  it('is produced by some Dockerfile line', () => {
    const src = [
      'ARG A', 'FROM a', 'RUN x', 'CMD x', 'ENTRYPOINT x', 'SHELL ["sh"]', 'ENV A=b', 'LABEL a=b', 'COPY a b', 'ADD a b',
      'WORKDIR /', 'USER u', 'EXPOSE 1', 'VOLUME /v', 'STOPSIGNAL 9', 'HEALTHCHECK NONE', 'ONBUILD RUN x', 'MAINTAINER m',
    ].join('\n');
    const kinds = nodes(src).map((n) => parseInstruction(n).kind);
    expect(new Set(kinds).size).toBe(18);
  });
});
