import { describe, expect, it } from 'vitest';
import { contextKey } from './named-contexts.js';

describe('contextKey', () => {
  it('writes names short, as buildx and BuildKit key named contexts', () => {
    expect(contextKey('alpine')).toBe('alpine');
    expect(contextKey('alpine:latest')).toBe('alpine');
    expect(contextKey('docker.io/library/alpine')).toBe('alpine');
    expect(contextKey('docker.io/library/alpine:3.19')).toBe('alpine:3.19');
    expect(contextKey('index.docker.io/user/app:1')).toBe('user/app:1');
    expect(contextKey('localhost:5000/app')).toBe('localhost:5000/app');
    expect(contextKey(`alpine@sha256:${'a'.repeat(64)}`)).toBe(`alpine@sha256:${'a'.repeat(64)}`);
    expect(contextKey('build-stage')).toBe('build-stage');
  });

  it('is undefined for what is no reference (such a name selects no context)', () => {
    expect(contextKey('Upper')).toBeUndefined();
    expect(contextKey('')).toBeUndefined();
    expect(contextKey('a b')).toBeUndefined();
  });
});
