// BuildKit's parser corpus: every positive case dumps to its `result` byte for byte, every
// negative case is rejected with a located error.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { sharedDir } from '../../test/shared.js';
import { parseDockerfile } from './parse.js';

const corpus = join(sharedDir(), 'conformance', 'buildkit-parser');
const positive = readdirSync(join(corpus, 'testfiles')).sort();
const negative = readdirSync(join(corpus, 'testfiles-negative')).sort();

describe('BuildKit parser conformance corpus', () => {
  it('has the 33 positive and 4 negative cases', () => {
    expect(positive).toHaveLength(33);
    expect(negative).toHaveLength(4);
  });

  it.each(positive)('dumps %s exactly', (name) => {
    const dir = join(corpus, 'testfiles', name);
    const result = parseDockerfile(readFileSync(join(dir, 'Dockerfile')), { file: 'Dockerfile' });
    expect(result.dump().toString('latin1')).toBe(readFileSync(join(dir, 'result')).toString('latin1'));
  });

  it.each(negative)('rejects %s', (name) => {
    const data = readFileSync(join(corpus, 'testfiles-negative', name, 'Dockerfile'));
    let caught: unknown;
    try {
      parseDockerfile(data, { file: 'Dockerfile' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BuildError);
    const err = caught as BuildError;
    expect(err.range?.file).toBe('Dockerfile');
    expect(err.range?.start.line).toBeGreaterThanOrEqual(1);
    expect(err.message.length).toBeGreaterThan(0);
  });
});
