// The real-world corpus: tsbuild accepts and rejects exactly the files BuildKit's parser does,
// dumps every accepted one to BuildKit's bytes, rejects the others with BuildKit's message,
// and warns where BuildKit warns.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { repoRoot, sharedDir } from '../../test/shared.js';
import { parseDockerfile } from './parse.js';

const corpus = join(sharedDir(), 'realworld-dockerfiles');
const expected = join(repoRoot, 'testdata', 'realworld-expected');

/** The files BuildKit rejects, and why. */
const REJECTED: Record<string, string> = {
  'realworld/254__replicatedhq__dockerfilelint__test__examples__Dockerfile.misc.Dockerfile':
    'LABEL value with a space and no "=" after a key=value pair',
  'realworld/263__projectatomic__dockerfile_lint__test__data__dockerfiles__EmptyFile.Dockerfile': 'LABEL with one word',
  'mutated/015__escape-backslash-explicit__from-079.Dockerfile': 'backtick no longer continues ENV lines',
  'mutated/019__escape-duplicate__from-197.Dockerfile': 'escape directive given twice',
  'mutated/020__escape-invalid__from-154.Dockerfile': 'escape directive that is neither \\ nor `',
  'mutated/030__unicode-nbsp-legacy-env__from-004.Dockerfile': 'NBSP does not separate legacy ENV key and value',
  'mutated/034__env-nel-separator__from-003.Dockerfile': 'NEL splits ENV words but not key from value',
  'mutated/040__long-line-65536__from-010.Dockerfile': 'line over the 64 KiB scanner limit',
  'mutated/048__heredoc-unterminated__from-052.Dockerfile': 'heredoc without its terminator',
  'mutated/053__json-non-string__from-138.Dockerfile': 'JSON array with a number',
  'mutated/056__env-missing-equals__from-011.Dockerfile': 'ENV word without "=" after a key=value pair',
  'mutated/061__comments-only__from-079.Dockerfile': 'no instructions',
  'mutated/062__bom-only__from-005.Dockerfile': 'no instructions',
};

const files = ['realworld', 'mutated'].flatMap((sub) =>
  readdirSync(join(corpus, sub))
    .filter((f) => f.endsWith('.Dockerfile'))
    .sort()
    .map((f) => `${sub}/${f}`),
);

describe('real-world Dockerfiles', () => {
  it('holds the 327 files, 13 of which BuildKit rejects', () => {
    expect(files).toHaveLength(327);
    const rejected = files.filter((f) => existsSync(join(expected, `${f}.error`)));
    expect(rejected.sort()).toEqual(Object.keys(REJECTED).sort());
  });

  it.each(files)('%s', (name) => {
    const data = readFileSync(join(corpus, name));
    const errorFile = join(expected, `${name}.error`);
    if (existsSync(errorFile)) {
      expect(REJECTED[name]).toBeDefined();
      let caught: unknown;
      try {
        parseDockerfile(data, { file: name });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(BuildError);
      expect((caught as BuildError).message).toBe(readFileSync(errorFile, 'utf8'));
      expect((caught as BuildError).range?.start.line).toBeGreaterThanOrEqual(1);
      return;
    }
    const result = parseDockerfile(data, { file: name });
    expect(result.dump().toString('latin1')).toBe(readFileSync(join(expected, `${name}.result`)).toString('latin1'));
    const warnFile = join(expected, 'warnings', `${name.replace('/', '.')}.warnings`);
    const want = existsSync(warnFile)
      ? readFileSync(warnFile, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.replace(/^WARN: /, '').replace(/ \(line \d+\)$/, ''))
      : [];
    expect(result.ast.warnings.map((w) => w.message)).toEqual(want);
  });
});
