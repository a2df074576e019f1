// The command line as a user meets it: the built `tsbuild` binary, its output, its errors
// (FILE:LINE:COL, the source line, a caret, a hint, no stack trace) and its exit statuses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './shared.js';

const bin = join(repoRoot, 'bin', 'tsbuild.js');
const dir = mkdtempSync(join(tmpdir(), 'tsbuild-cli-'));

function tsbuild(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, input, encoding: 'utf8', env: { ...process.env, FROM_ENV: 'from-env' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function check(name: string, text: string, extra: string[] = []) {
  writeFileSync(join(dir, name), text);
  return tsbuild(['parse', ...extra, name]);
}

/** The one-paragraph error: location, message, source line, caret; never a stack. */
function expectLocatedError(r: ReturnType<typeof tsbuild>, where: string, message: string, source: string) {
  expect(r.status).toBe(1);
  const lines = r.stderr.split('\n');
  expect(lines[0]).toBe(`error: ${where}: ${message}`);
  expect(lines[1]).toMatch(new RegExp(`^ +\\d+ \\| ${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  expect(lines[2]).toMatch(/^ +\| +\^+$/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('tsbuild parse errors', () => {
  it('unknown instruction, with a suggestion', () => {
    const r = check('unknown.Dockerfile', 'FROM busybox\nRUNN echo hi\n');
    expectLocatedError(r, 'unknown.Dockerfile:2:1', 'unknown instruction: RUNN', 'RUNN echo hi');
    expect(r.stderr).toContain('hint: did you mean "RUN"?');
    expect(r.stderr.split('\n')[2]).toBe('    | ^^^^');
  });

  it('bad JSON where JSON is required', () => {
    const r = check('json.Dockerfile', 'FROM busybox\nSHELL /bin/sh -c\n');
    expectLocatedError(r, 'json.Dockerfile:2:1', 'SHELL requires the arguments to be in JSON form', 'SHELL /bin/sh -c');
  });

  it('missing argument', () => {
    const r = check('missing.Dockerfile', 'FROM busybox\nCOPY onlyone\n');
    expectLocatedError(r, 'missing.Dockerfile:2:1', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined', 'COPY onlyone');
  });

  it('bad flag, pointing at the flag', () => {
    const r = check('flag.Dockerfile', 'FROM busybox\nCOPY --form=x a b\n');
    expectLocatedError(r, 'flag.Dockerfile:2:6', 'unknown flag: --form', 'COPY --form=x a b');
    expect(r.stderr).toContain('did you mean "from"?');
  });

  it('bad variable syntax and a ${a:?msg} that fires', () => {
    const bad = check('var.Dockerfile', 'FROM busybox\nWORKDIR ${oops\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: var\.Dockerfile:2:1: failed to process "\$\{oops": /);
    const fired = check('req.Dockerfile', 'FROM busybox\nARG NAME\nWORKDIR /home/${NAME:?set NAME with --build-arg}\n');
    expect(fired.status).toBe(1);
    expect(fired.stderr).toContain('req.Dockerfile:3:1');
    expect(fired.stderr).toContain('set NAME with --build-arg');
  });

  it('unknown target stage', () => {
    const r = check('target.Dockerfile', 'FROM busybox AS build\nFROM busybox\n', ['--target', 'biuld']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: target stage "biuld" could not be found\n  hint: did you mean "build"?\n');
  });

  it('a syntax error from the parser itself', () => {
    const r = check('env.Dockerfile', 'FROM busybox\nENV PATH\n');
    expectLocatedError(r, 'env.Dockerfile:2:1', 'ENV must have two arguments', 'ENV PATH');
  });

  it('prints the stack only with --debug', () => {
    writeFileSync(join(dir, 'dbg.Dockerfile'), 'FROM a\nRUNN x\n');
    const r = tsbuild(['parse', '--debug', 'dbg.Dockerfile']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('tsbuild usage', () => {
  it('exits 2 on an unknown flag or command, with a suggestion', () => {
    const flag = tsbuild(['parse', '--dumb', 'x']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('unknown flag for "parse": --dumb');
    expect(flag.stderr).toContain('did you mean "--dump"?');
    const cmd = tsbuild(['prase']);
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toContain('did you mean "parse"?');
  });

  it('reads the Dockerfile from stdin and dumps it', () => {
    const r = tsbuild(['parse', '--dump', '-'], 'FROM busybox\nRUN echo hi\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('(from "busybox")\n(run "echo hi")\n');
  });

  it('takes --build-arg K from the environment and warns about unused ones', () => {
    writeFileSync(join(dir, 'args.Dockerfile'), 'ARG FROM_ENV\nFROM busybox:$FROM_ENV\n');
    const r = tsbuild(['parse', '--plan', '--build-arg', 'FROM_ENV', '--build-arg', 'EXTRA=1', 'args.Dockerfile']);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout) as { stages: { base: unknown }[] };
    expect(plan.stages[0]!.base).toEqual({ kind: 'image', ref: 'busybox:from-env' });
    expect(r.stderr).toContain('build-arg "EXTRA" was not consumed by any stage');
  });

  it('says plainly what is not supported yet', () => {
    const cases: [string[], string][] = [
      [['--cache-to', 'type=azblob'], 'not supported yet: --cache-to type=azblob'],
      [['--cache-from', 'type=s3'], 'not supported yet: --cache-from type=s3'],
      [['--build-context', 'src=https://example.invalid/repo.git'], 'not supported yet'],
    ];
    for (const [flags, message] of cases) {
      const r = tsbuild(['build', ...flags, '.']);
      expect(r.status, flags.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
    }
  });

  it('refuses an unknown output type and unknown output keys as usage errors', () => {
    const r = tsbuild(['build', '-o', 'type=bogus,dest=x', '.']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown output type "bogus"');
    const k = tsbuild(['build', '-o', 'type=local,dest=x,zip=1', '.']);
    expect(k.status).toBe(2);
    expect(k.stderr).toContain('does not take "zip"');
  });
});
