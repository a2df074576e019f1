import { describe, expect, it } from 'vitest';
import { proxyEnvOf, setEnvLast } from './env.js';

describe('proxyEnvOf (ported from BuildKit dockerfile2llb/convert_test.go)', () => {
  it('TestProxyEnvFromBuildArgsDeterministicOrder: of two spellings the lower-case one wins, both cases are set', () => {
    const env = proxyEnvOf(
      new Map([
        ['ALL_PROXY', 'all-upper'],
        ['all_proxy', 'all-lower'],
        ['HTTP_PROXY', 'http-upper'],
        ['http_proxy', 'http-lower'],
        ['NO_PROXY', 'no-proxy'],
      ]),
    );
    expect(env).toEqual(['HTTP_PROXY=http-lower', 'http_proxy=http-lower', 'NO_PROXY=no-proxy', 'no_proxy=no-proxy', 'ALL_PROXY=all-lower', 'all_proxy=all-lower']);
  });

  it('TestProxyEnvFromBuildArgsNilWhenNoProxyArgs: no proxy args, no proxy variables', () => {
    expect(proxyEnvOf(new Map([['FOO', 'bar']]))).toEqual([]);
  });
});

describe('setEnvLast', () => {
  it('moves a key set again to the end, as an LLB state lists its environment', () => {
    expect(setEnvLast(['A=1', 'B=2'], 'A', '3')).toEqual(['B=2', 'A=3']);
    expect(setEnvLast(['A=1'], 'C', '')).toEqual(['A=1', 'C=']);
  });
});
