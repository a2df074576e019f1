import { describe, expect, it } from 'vitest';
import { launchPlan, needsRootError, sudoRefusal } from './launch.js';

const CLI = ['/usr/bin/node', '/opt/tsbuild/bin/tsbuild.js'];
const ARGV = ['build', '--secret', 'id=tok,env=TSBUILD_SECRET_0', '.'];
const ENV = { TSBUILD_SECRET_0: 's3cret-value', ACTIONS_RUNTIME_TOKEN: 'runtime-token', DOCKER_CONFIG: '/home/runner/.docker' };

describe('launchPlan', () => {
  it('as root: the CLI itself, with exactly the build environment and PATH', () => {
    expect(launchPlan(CLI, ARGV, ENV, { uid: 0, path: '/usr/bin:/bin' })).toEqual({
      file: '/usr/bin/node',
      args: ['/opt/tsbuild/bin/tsbuild.js', ...ARGV],
      env: { PATH: '/usr/bin:/bin', ...ENV },
      sudo: false,
    });
  });

  it('as another user: sudo -n keeping the variables by name; no value on the command line', () => {
    const plan = launchPlan(CLI, ARGV, ENV, { uid: 1001, path: '/usr/bin:/bin' });
    expect(plan).toEqual({
      file: 'sudo',
      args: ['-n', '--preserve-env=ACTIONS_RUNTIME_TOKEN,DOCKER_CONFIG,TSBUILD_SECRET_0', '--', ...CLI, ...ARGV],
      env: { PATH: '/usr/bin:/bin', ...ENV },
      sudo: true,
    });
    for (const v of Object.values(ENV)) expect(plan.args.join(' ')).not.toContain(v);
  });

  it('an empty environment keeps nothing; a name sudo cannot keep is refused', () => {
    expect(launchPlan(CLI, ['version'], {}, { uid: 5 }).args).toEqual(['-n', '--', ...CLI, 'version']);
    expect(() => launchPlan(CLI, [], { 'A,B': 'x' }, { uid: 5 })).toThrow(/sudo cannot keep: "A,B"/);
    expect(() => launchPlan([], [], {}, { uid: 0 })).toThrow(/no command runs tsbuild/);
  });
});

describe('sudo refusals', () => {
  it("sudo's own lines, without its prefix; none when sudo said nothing", () => {
    expect(sudoRefusal(['sudo: a password is required'])).toBe('a password is required');
    expect(sudoRefusal(['error: something else'])).toBeUndefined();
  });

  it('one clear error that says the build needs root and how to give it', () => {
    const e = needsRootError('sudo -n refused to run it: a password is required');
    expect(e.message).toBe('the build needs root: sudo -n refused to run it: a password is required');
    expect(e.hint).toMatch(/NOPASSWD/);
  });
});
