import { describe, expect, it } from 'vitest';
import { dockerNormalizedName, familiarName, normalizedReferenceProblem, ociRefName, parseImageName, referenceProblem } from './reference.js';

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
