import { describe, expect, it } from 'vitest';
import { BuildError } from '../errors/index.js';
import {
  dockerNormalizedName, familiarName, formatReference, normalizedReferenceProblem, ociRefName, parseImageName, parseReference, referenceProblem,
} from './reference.js';

describe('names as Docker normalises them (for OCI layouts and docker archives)', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest', 'latest'],
    ['busybox:test', 'docker.io/library/busybox:test', 'busybox:test', 'test'],
    ['org/app:1', 'docker.io/org/app:1', 'org/app:1', '1'],
    ['docker.io/library/app', 'docker.io/library/app:latest', 'app:latest', 'latest'],
    ['index.docker.io/org/app:2', 'docker.io/org/app:2', 'org/app:2', '2'],
    ['localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app:1', '1'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest', 'latest'],
    ['example.com/team/app:v1', 'example.com/team/app:v1', 'example.com/team/app:v1', 'v1'],
    ['Registry/app:1', 'Registry/app:1', 'Registry/app:1', '1'],
    [`app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`, `app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`],
    [`app:1@sha256:${'a'.repeat(64)}`, `docker.io/library/app:1@sha256:${'a'.repeat(64)}`, `app:1@sha256:${'a'.repeat(64)}`, `1@sha256:${'a'.repeat(64)}`],
  ])('%s → %s, shown as %s, ref.name %s', (input, normalized, familiar, refName) => {
    expect(dockerNormalizedName(input)).toBe(normalized);
    expect(familiarName(normalized)).toBe(familiar);
    expect(ociRefName(normalized)).toBe(refName);
  });

  it('refuses what is no image name', () => {
    expect(() => dockerNormalizedName('Busybox')).toThrow(/lower-case/);
    expect(() => parseImageName('a:b:c')).toThrow(/invalid image name/);
  });
});

describe('reference problems in docker\'s words (distribution/reference)', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    ['busybox', undefined],
    ['org/app:1', undefined],
    ['Registry.example.com:5000/team/app:v1.2_3-x', undefined],
    [`app:1@${digest}`, undefined],
    ['[::1]:5000/app', undefined],
    ['', 'repository name must have at least one component'],
    ['Foo', 'repository name must be lowercase'],
    ['org/Foo:1', 'repository name must be lowercase'],
    ['my image', 'invalid reference format'],
    ['app:-bad', 'invalid reference format'],
    ['app:', 'invalid reference format'],
    [`app:${'t'.repeat(129)}`, 'invalid reference format'],
    ['app::1', 'invalid reference format'],
    ['-app', 'invalid reference format'],
    ['app/', 'invalid reference format'],
    [`${'a'.repeat(256)}`, 'repository name must not be more than 255 characters'],
    [`app@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
    [`app@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    [`app@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
  ])('Parse(%j): %s', (input, problem) => {
    expect(referenceProblem(input)).toBe(problem);
  });

  it.each([
    ['busybox', undefined],
    ['Registry/app', undefined], // an upper-case first component is a registry
    ['localhost:5000/app:1', undefined],
    ['Foo', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['Foo:1', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['org/Foo', 'invalid reference format: repository name (org/Foo) must be lowercase'],
    ['example.com/Team/app', 'invalid reference format: repository name (Team/app) must be lowercase'],
    ['my image', 'invalid reference format'],
    ['app:-bad', 'invalid reference format'],
    ['a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
    [`app@sha256:${'a'.repeat(10)}`, 'invalid reference format'],
  ])('ParseNormalizedNamed(%j): %s', (input, problem) => {
    expect(normalizedReferenceProblem(input)).toBe(problem);
  });
});

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
});
