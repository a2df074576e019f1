import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN_SECONDS, TokenCache, expiryOf, parseChallenge, type IssuedToken } from './tokens.js';

/** A cache on a clock the test moves, and a token service that counts what it issued. */
function setup() {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  let issued = 0;
  const fetch = async (): Promise<IssuedToken> => ({ token: `t${++issued}`, expiresAt: expiryOf(now, 30) });
  return { cache, fetch, issued: () => issued, advance: (ms: number) => (now += ms) };
}

const challenge = { realm: 'https://auth.test/token', service: 'registry.test' };

describe('TokenCache', () => {
  it('keeps a token until it expires, then fetches a new one', async () => {
    const t = setup();
    const key = TokenCache.key('https://registry.test', challenge, ['repository:a:pull'], undefined);
    expect(await t.cache.obtain(key, t.fetch)).toBe('t1');
    t.advance(20_000);
    expect(await t.cache.obtain(key, t.fetch)).toBe('t1');
    t.advance(10_000); // past 30 s less the margin
    expect(await t.cache.obtain(key, t.fetch)).toBe('t2');
    expect(t.issued()).toBe(2);
  });

  it('asks once for many requests waiting at the same time', async () => {
    const t = setup();
    const key = TokenCache.key('https://registry.test', challenge, ['repository:a:pull,push'], { username: 'u', password: 'p' });
    const tokens = await Promise.all(Array.from({ length: 8 }, () => t.cache.obtain(key, t.fetch)));
    expect(new Set(tokens)).toEqual(new Set(['t1']));
    expect(t.issued()).toBe(1);
  });

  it('keeps no failure, and forgets a token the registry refused', async () => {
    const t = setup();
    const key = TokenCache.key('https://registry.test', challenge, [], undefined);
    await expect(t.cache.obtain(key, async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await t.cache.obtain(key, t.fetch)).toBe('t1');
    await t.cache.drop(key, 'not-this-one');
    expect(await t.cache.obtain(key, t.fetch)).toBe('t1');
    await t.cache.drop(key, 't1');
    expect(await t.cache.obtain(key, t.fetch)).toBe('t2');
  });

  it('keys by scopes in any order and by credentials, never holding them in clear', () => {
    const a = TokenCache.key('o', challenge, ['repository:b:pull', 'repository:a:pull'], { username: 'u', password: 'secret-pw' });
    const b = TokenCache.key('o', challenge, ['repository:a:pull', 'repository:b:pull'], { username: 'u', password: 'secret-pw' });
    const other = TokenCache.key('o', challenge, ['repository:a:pull', 'repository:b:pull'], { username: 'u', password: 'other' });
    expect(a).toBe(b);
    expect(a).not.toBe(other);
    expect(a).not.toContain('secret-pw');
  });

  it('remembers the token service a registry named', () => {
    const t = setup();
    expect(t.cache.challengeFor('https://registry.test')).toBeUndefined();
    t.cache.rememberChallenge('https://registry.test', challenge);
    expect(t.cache.challengeFor('https://registry.test')).toEqual(challenge);
  });
});

describe('token lifetimes and challenges', () => {
  it('uses expires_in, 60 s when absent or nonsense, less a margin', () => {
    expect(expiryOf(0, 300)).toBe(290_000);
    expect(expiryOf(0, undefined)).toBe(DEFAULT_TOKEN_SECONDS * 1000 - 6_000);
    expect(expiryOf(0, 'soon')).toBe(expiryOf(0, undefined));
    expect(expiryOf(0, 10)).toBe(9_000);
  });

  it('parses a bearer challenge with several scopes', () => {
    const { scheme, params } = parseChallenge(
      'Bearer realm="https://auth.test/token",service="registry.test",scope="repository:b:pull,push repository:a:pull",error="insufficient_scope"',
    );
    expect(scheme).toBe('bearer');
    expect(params.get('realm')).toBe('https://auth.test/token');
    expect(params.get('service')).toBe('registry.test');
    expect(params.get('scope')).toBe('repository:b:pull,push repository:a:pull');
  });
});
