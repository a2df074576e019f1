// Build checks through the whole frontend (parse, then plan), with BuildKit's own cases from
// frontend/dockerfile/dockerfile_check_test.go where tsbuild has the rules they use.
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { parseDockerfile } from '../parser/parse.js';
import { planBuild } from '../stages/convert.js';
import { parseCheckOptions } from './options.js';

const amd64 = { os: 'linux', architecture: 'amd64' } as const;

async function lint(text: string, buildArgs: Record<string, string> = {}): Promise<{ warnings: string[]; error?: BuildError }> {
  const ast = parseDockerfile(text, { file: 'Dockerfile' }).ast;
  try {
    const plan = await planBuild(ast, { buildPlatform: amd64, buildArgs: new Map(Object.entries(buildArgs)) });
    return { warnings: plan.warnings.map((w) => `${w.code} ${w.range?.start.line ?? '-'}: ${w.message}`) };
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    return { warnings: [], error: e };
  }
}

const fromAsCasing = "FromAsCasing 2: 'as' and 'FROM' keywords' casing do not match";

describe('check options', () => {
  it('parses skip, experimental and error, with BuildKit\'s errors for bad ones', () => {
    expect(parseCheckOptions(' skip = A, B ;error=TRUE')).toEqual({ skipAll: false, skip: ['A', 'B'], experimentalAll: false, experimental: [], error: true });
    expect(parseCheckOptions('skip=all;experimental=all')).toMatchObject({ skipAll: true, experimentalAll: true });
    expect(parseCheckOptions('')).toMatchObject({ skipAll: false, skip: [], error: false });
    expect(() => parseCheckOptions('skip')).toThrow('invalid check option "skip"');
    expect(() => parseCheckOptions('ignore=A')).toThrow('invalid check option "ignore"');
    expect(() => parseCheckOptions('error=yes')).toThrow('failed to parse check option "error=yes": strconv.ParseBool: parsing "yes": invalid syntax');
  });

  it('fails the build on a malformed directive or build arg', async () => {
    const bad = await lint('# check=skip\nFROM scratch\n');
    expect(bad.error).toMatchObject({ code: 'BAD_DIRECTIVE', message: 'failed to parse check options: invalid check option "skip"' });
    expect(bad.error?.range?.start.line).toBe(1);
    const arg = await lint('FROM scratch\n', { BUILDKIT_DOCKERFILE_CHECK: 'error=maybe' });
    expect(arg.error?.message).toBe(
      'failed to parse BUILDKIT_DOCKERFILE_CHECK: failed to parse check option "error=maybe": strconv.ParseBool: parsing "maybe": invalid syntax',
    );
  });
});

describe('build checks', () => {
  it('testRuleCheckOption: skip=all, skip=RULES, error=true and BUILDKIT_DOCKERFILE_CHECK over the directive', async () => {
    const body = 'FROM scratch as base\ncopy Dockerfile .\n';
    expect(await lint(`#check=skip=all\n${body}`)).toEqual({ warnings: [] });
    expect(await lint(`#check=skip=all;error=true\n${body}`)).toEqual({ warnings: [] });
    expect(await lint(`#check=skip=ConsistentInstructionCasing,FromAsCasing\n${body}`)).toEqual({ warnings: [] });
    expect(await lint(`#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true\n${body}`)).toEqual({ warnings: [] });
    expect(await lint(`#check=skip=ConsistentInstructionCasing\n${body}`)).toEqual({ warnings: [fromAsCasing] });
    const failed = await lint(`#check=skip=ConsistentInstructionCasing;error=true\n${body}`);
    expect(failed.error).toMatchObject({ code: 'CHECK_FAILED', message: 'lint violation found for rules: FromAsCasing' });
    expect(failed.error?.hint).toContain("FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 2)");
    // The build arg replaces the directive entirely.
    const byArg = await lint(`#check=skip=all\n${body}`, { BUILDKIT_DOCKERFILE_CHECK: 'skip=ConsistentInstructionCasing;error=true' });
    expect(byArg.error?.message).toBe('lint violation found for rules: FromAsCasing');
    expect(await lint(`#check=error=true\n${body}`, { BUILDKIT_DOCKERFILE_CHECK: 'skip=all' })).toEqual({ warnings: [] });
  });

  it('testStageName: StageNameCasing and FromAsCasing', async () => {
    const r = await lint('\n# warning: stage name should be lowercase\n#\nFROM scratch AS BadStageName\n\n# warning: \'as\' should match \'FROM\' cmd casing.\n#\nFROM scratch as base2\n\nFROM scratch AS base3\n');
    expect(r.warnings).toEqual([
      "StageNameCasing 4: Stage name 'BadStageName' should be lowercase",
      "FromAsCasing 8: 'as' and 'FROM' keywords' casing do not match",
    ]);
    const lower = await lint("\n# warning: 'AS' should match 'from' cmd casing.\n#\nfrom scratch AS base\n\nfrom scratch as base2\n");
    expect(lower.warnings).toEqual(["FromAsCasing 4: 'AS' and 'from' keywords' casing do not match"]);
  });

  it('testNoEmptyContinuation: reported, and skipped by the directive', async () => {
    const body = 'FROM scratch\n# warning: empty continuation line\nCOPY Dockerfile \\\n\n.\nCOPY Dockerfile \\\n.\n';
    expect((await lint(`\n${body}`)).warnings).toEqual(['NoEmptyContinuation 6: Empty continuation line']);
    expect((await lint(`# check=skip=NoEmptyContinuation\n${body}`)).warnings).toEqual([]);
  });

  it('testMaintainerDeprecated: a # check= comment above an instruction skips for that instruction only', async () => {
    expect((await lint('\nFROM scratch\nMAINTAINER me@example.org\n')).warnings).toEqual([
      'MaintainerDeprecated 3: Maintainer instruction is deprecated in favor of using label',
    ]);
    expect((await lint('\nFROM scratch\n# check=skip=MaintainerDeprecated\nMAINTAINER me@example.org\n')).warnings).toEqual([]);
    const one = await lint('FROM scratch\n# check=skip=all // only this one\nMAINTAINER a\nMAINTAINER b\n');
    expect(one.warnings).toEqual(['MaintainerDeprecated 4: Maintainer instruction is deprecated in favor of using label']);
    // error=true in such a comment is not taken: only the directive or the build arg turn it on.
    expect((await lint('FROM scratch\n# check=error=true\nMAINTAINER a\n')).error).toBeUndefined();
  });

  it('error=true fails on every rule left, named once each, in the order first met', async () => {
    const r = await lint('# check=error=true\nFROM scratch AS Base\nMAINTAINER a\nMAINTAINER b\n');
    expect(r.error?.message).toBe('lint violation found for rules: StageNameCasing, MaintainerDeprecated');
  });

  it('never counts BUILDKIT_DOCKERFILE_CHECK as an unused build arg', async () => {
    expect((await lint('FROM scratch\n', { BUILDKIT_DOCKERFILE_CHECK: 'skip=all', OTHER: '1' })).warnings).toEqual([
      'UnusedBuildArg -: build-arg "OTHER" was not consumed by any stage',
    ]);
  });
});
