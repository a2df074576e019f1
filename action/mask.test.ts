import { describe, expect, it } from 'vitest';
import { buildCommand } from './command.js';
import { inputVariable, readInputs } from './inputs.js';
import { logPreamble, maskCommands } from './mask.js';
import { outputFileText, stepOutputs } from './outputs.js';
import { summaryMarkdown } from './summary.js';

const SECRETS = {
  inline: 'p@ss%word-1',
  multiLine: '-----BEGIN KEY-----\nline-two-of-key\n-----END KEY-----',
  fromEnv: 'value-of-my-env-secret',
  runtime: 'runtime-token-abcdef',
  github: 'ghs_githubtoken123',
  ghaToken: 'gha-spec-token-xyz',
};

const env: Record<string, string> = {
  HOME: '/home/runner',
  ACTIONS_RUNTIME_TOKEN: SECRETS.runtime,
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/',
  MY_SECRET: SECRETS.fromEnv,
  [inputVariable('load')]: 'false',
  [inputVariable('no-cache')]: 'false',
  [inputVariable('pull')]: 'false',
  [inputVariable('push')]: 'true',
  [inputVariable('summary')]: 'true',
  [inputVariable('github-token')]: SECRETS.github,
  [inputVariable('tags')]: 'ghcr.io/me/app:1',
  [inputVariable('secrets')]: `INLINE=${SECRETS.inline}\n"KEY=${SECRETS.multiLine}"`,
  [inputVariable('secret-envs')]: 'FROM_ENV=MY_SECRET',
  [inputVariable('cache-from')]: `type=gha,token=${SECRETS.ghaToken}`,
  [inputVariable('cache-to')]: 'type=gha,mode=max',
};

describe('masking', () => {
  it('registers every secret value before anything else is printed, and none reaches the log text otherwise', () => {
    const cmd = buildCommand(readInputs(env), { env, tempDir: '/tmp/run' });
    const outputs = stepOutputs({ 'containerimage.digest': `sha256:${'a'.repeat(64)}`, 'image.name': 'ghcr.io/me/app:1' }, [{ kind: 'step', name: 'RUN --mount=type=secret,id=INLINE make', state: 'done', ms: 5 }]);
    // Everything the action prints or writes where people read it.
    const log = [
      logPreamble(cmd),
      summaryMarkdown({ steps: [{ kind: 'step', name: 'RUN make', state: 'done', ms: 5 }], outputs, metadata: { 'image.name': 'ghcr.io/me/app:1' }, pushes: cmd.pushes }),
      outputFileText(outputs),
    ].join('\n');
    const lines = log.split('\n');
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    expect(firstOther).toBeGreaterThan(0);
    const masked = lines.slice(0, firstOther).map((l) => l.slice('::add-mask::'.length));
    const rest = lines.slice(firstOther).join('\n');
    for (const secret of Object.values(SECRETS)) {
      for (const part of [secret, ...secret.split('\n')]) {
        expect(rest).not.toContain(part);
        expect(masked).toContain(part.replace(/%/g, '%25').replace(/\n/g, '%0A'));
      }
    }
    expect(log).toContain('--cache-from type=gha,token=***');
    // The values still reach the build, through its environment.
    expect(Object.values(cmd.env)).toEqual(expect.arrayContaining([SECRETS.inline, SECRETS.multiLine, SECRETS.fromEnv, SECRETS.runtime]));
  });

  it('names a bad secret item by its number, not its text', () => {
    const bad = { ...env, [inputVariable('secrets')]: 'no-equals-sign-secret' };
    expect(() => buildCommand(readInputs(bad), { env: bad, tempDir: '/tmp/run' })).toThrow('input "secrets": item 1 is not a valid secret');
    try {
      buildCommand(readInputs(bad), { env: bad, tempDir: '/tmp/run' });
    } catch (e) {
      expect(`${(e as Error).message} ${JSON.stringify(e)}`).not.toContain('no-equals-sign-secret');
    }
  });

  it('escapes what the runner unescapes, and skips blank values', () => {
    expect(maskCommands(['a%b\r\nc', '  ', ''])).toBe('::add-mask::a%25b%0D%0Ac\n::add-mask::a%25b\n::add-mask::c\n');
  });
});
