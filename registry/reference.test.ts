import { describe, expect, it } from 'vitest';
import { BuildError } from '../errors/index.js';
import { formatReference, parseReference, registryEndpoint } from './reference.js';

describe('image references, normalised as Docker does', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['index.docker.io/user/app:v1', 'docker.io/user/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/ns/app:tag', '127.0.0.1:5000/ns/app:tag'],
    ['ghcr.io/o/r/sub:x', 'ghcr.io/o/r/sub:x'],
    [`app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`],
    [`host:5000/app:t@sha256:${'b'.repeat(64)}`, `host:5000/app:t@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (input, normalised) => {
    expect(formatReference(parseReference(input))).toBe(normalised);
  });

  it('refuses malformed names with a reason', () => {
    for (const [bad, why] of [
      ['Busybox', 'lowercase'],
      ['app:bad tag', 'tag'],
      ['app@sha256:123', 'digest'],
      ['a//b', 'not valid'],
    ] as const) {
      let err: unknown;
      try {
        parseReference(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BuildError);
      expect((err as BuildError).message).toContain(why);
    }
  });

  it('speaks plain HTTP to loopback and to registries marked insecure, HTTPS to others', () => {
    expect(registryEndpoint('docker.io')).toBe('https://registry-1.docker.io');
    expect(registryEndpoint('localhost:5000')).toBe('http://localhost:5000');
    expect(registryEndpoint('127.0.0.2:5000')).toBe('http://127.0.0.2:5000');
    expect(registryEndpoint('ghcr.io')).toBe('https://ghcr.io');
    expect(registryEndpoint('lan.example:5000', ['lan.example:5000'])).toBe('http://lan.example:5000');
  });
});
