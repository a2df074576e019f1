import { describe, expect, it } from 'vitest';
import { failureAnnotation } from './failure.js';

describe('failureAnnotation', () => {
  it('names the failed step and its error, at the Dockerfile line the CLI gave, relative to the workspace', () => {
    const text = [
      'error: /home/runner/work/app/app/Dockerfile:4:1: [2/2] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1',
      '  4 | RUN false',
    ];
    expect(failureAnnotation({ failed: [{ name: '[2/2] RUN false', error: 'process "/bin/sh -c false" did not complete successfully: exit code: 1' }], text }, '/home/runner/work/app/app')).toBe(
      '::error title=tsbuild%3A the build failed,file=Dockerfile,line=4,col=1::[2/2] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1\n',
    );
  });

  it('without a failed step: the CLI error, pointing at its line; a path outside the workspace stays as given', () => {
    expect(failureAnnotation({ failed: [], text: ['error: /src/Dockerfile:12:1: unknown instruction "RUNN" (did you mean "RUN"?)'] }, '/home/runner/work')).toBe(
      '::error title=tsbuild%3A the build failed,file=/src/Dockerfile,line=12,col=1::unknown instruction "RUNN" (did you mean "RUN"?)\n',
    );
  });

  it('an error with no place, and a CLI that said nothing', () => {
    expect(failureAnnotation({ failed: [], text: ['error: registry 127.0.0.1:5000: push refused', '  hint: log in'] }, undefined)).toBe(
      '::error title=tsbuild%3A the build failed::registry 127.0.0.1:5000: push refused\n',
    );
    expect(failureAnnotation({ failed: [], text: [] }, undefined)).toBe('::error title=tsbuild%3A the build failed::tsbuild failed and said nothing\n');
  });
});
