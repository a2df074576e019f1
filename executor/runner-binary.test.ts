import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runnerBinaryPath } from './runner-binary.js';

describe('runnerBinaryPath', () => {
  it('is in TSBUILD_NATIVE_DIR when set, else the package build (which npm ci made)', () => {
    expect(runnerBinaryPath({ TSBUILD_NATIVE_DIR: '/opt/native' })).toBe('/opt/native/tsbuild-runner');
    const built = runnerBinaryPath({});
    expect(built.endsWith('/native/build/Release/tsbuild-runner')).toBe(true);
    expect(existsSync(built)).toBe(true);
    expect(runnerBinaryPath({ TSBUILD_NATIVE_DIR: '' })).toBe(built);
  });
});
