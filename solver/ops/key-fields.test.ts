import { describe, expect, it } from 'vitest';
import { envFields, isSecretName, specFields } from './key-fields.js';

describe('key fields', () => {
  it('a RUN environment: a field per variable, the last of a name winning', () => {
    expect(envFields(['PATH=/bin', 'VERSION=1.2', 'EMPTY', 'VERSION=1.3'])).toEqual({ 'env:PATH': '/bin', 'env:VERSION': '1.3', 'env:EMPTY': '' });
  });

  it('a variable named like a secret is kept as a digest that still tells a change apart', () => {
    for (const name of ['NPM_TOKEN', 'api_key', 'DATABASE_PASSWORD', 'AUTH', 'secret_message']) expect(isSecretName(name)).toBe(true);
    for (const name of ['VERSION', 'PUBLIC_KEY', 'KEY_FILE', 'TOKENIZER', 'MONKEY']) expect(isSecretName(name)).toBe(false);
    const a = envFields(['NPM_TOKEN=abc123'])['env:NPM_TOKEN']!;
    expect(a).toMatch(/^<hidden, sha256 [0-9a-f]{16}>$/);
    expect(a).not.toContain('abc123');
    expect(envFields(['NPM_TOKEN=abc124'])['env:NPM_TOKEN']).not.toBe(a);
  });

  it('a spec: members that are set, strings as they are, the rest as canonical JSON, kind left out', () => {
    expect(specFields({ kind: 'copy', dest: '/app', sources: ['b', 'a'], chown: undefined, link: false, opts: { z: 1, a: 2 } })).toEqual({
      dest: '/app',
      sources: '["b","a"]',
      link: 'false',
      opts: '{"a":2,"z":1}',
    });
  });
});
