import { describe, expect, it } from 'vitest';
import { isBuildError } from '../errors/index.js';
import { getBooleanInput, getInput, getInputList, inputVariable, readInputs } from './inputs.js';

describe('inputs', () => {
  it('reads INPUT_ and the name upper-cased, spaces as _, dashes kept', () => {
    expect(inputVariable('cache-from')).toBe('INPUT_CACHE-FROM');
    expect(inputVariable('my input')).toBe('INPUT_MY_INPUT');
    expect(getInput({ 'INPUT_CACHE-FROM': '  type=gha \n' }, 'cache-from')).toBe('type=gha');
    expect(getInput({ INPUT_SECRETS: ' A=1 ' }, 'secrets', { trimWhitespace: false })).toBe(' A=1 ');
    expect(getInput({}, 'target')).toBe('');
  });

  it.each(['true', 'True', 'TRUE', ' true '])('takes %j as true', (v) => {
    expect(getBooleanInput({ INPUT_PUSH: v }, 'push')).toBe(true);
  });

  it.each(['false', 'False', 'FALSE'])('takes %j as false', (v) => {
    expect(getBooleanInput({ INPUT_PUSH: v }, 'push')).toBe(false);
  });

  it.each(['yes', '1', 'tRUE', ''])('refuses %j, naming the input', (v) => {
    let err: unknown;
    try {
      getBooleanInput({ INPUT_PUSH: v }, 'push');
    } catch (e) {
      err = e;
    }
    expect(isBuildError(err) && err.code).toBe('USAGE');
    expect((err as Error).message).toBe(`input "push" is not a boolean: ${JSON.stringify(v)}`);
  });

  it('splits each list input with its own options', () => {
    const env = {
      INPUT_TAGS: 'a:1,a:2\na:3',
      INPUT_LABELS: 'x=1,2',
      INPUT_OUTPUTS: 'type=local,"dest=o"',
      INPUT_SECRETS: 'A= 1 ',
      'INPUT_SECRET-ENVS': 'A=X,B=Y',
      INPUT_PLATFORMS: 'linux/amd64, linux/arm64',
    };
    expect(getInputList(env, 'tags')).toEqual(['a:1', 'a:2', 'a:3']);
    expect(getInputList(env, 'labels')).toEqual(['x=1,2']);
    expect(getInputList(env, 'outputs')).toEqual(['type=local,"dest=o"']);
    expect(getInputList(env, 'secrets')).toEqual(['A= 1 ']);
    expect(getInputList(env, 'secret-envs')).toEqual(['A=X', 'B=Y']);
    expect(getInputList(env, 'platforms')).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('reads every input at once; a bad boolean stops it', () => {
    const env = { INPUT_LOAD: 'false', 'INPUT_NO-CACHE': 'false', INPUT_PULL: 'false', INPUT_PUSH: 'true', INPUT_SUMMARY: 'true', INPUT_TARGET: ' app ' };
    const inputs = readInputs(env);
    expect(inputs.push).toBe(true);
    expect(inputs.target).toBe('app');
    expect(inputs.tags).toEqual([]);
    expect(() => readInputs({ ...env, INPUT_PULL: 'maybe' })).toThrow('input "pull" is not a boolean');
  });
});
