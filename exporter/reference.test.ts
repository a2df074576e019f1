import { describe, expect, it } from 'vitest';
import { dockerNormalizedName, familiarName, ociRefName, parseImageName } from './reference.js';

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
