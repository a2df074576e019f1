// Whatever bytes it is given, the parser either returns a tree or throws its own BuildError
// pointing at a line of the file; it never crashes with anything else.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { sharedDir } from '../../test/shared.js';
import { parseDockerfile } from './parse.js';

const PIECES = [
  'FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'LABEL ', 'ARG ', 'ONBUILD ', 'HEALTHCHECK ', 'SHELL ', 'CMD ',
  'EXPOSE ', 'foo', 'a=b', '"', "'", '\\', '`', '\n', '\r\n', '\r', ' ', '\t', '#', '# escape=`\n',
  '# syntax=x\n', '<<', '<<-', 'EOF', '\nEOF\n', '[', ']', '","', '--', '--flag=', '=', '${', '}', '$',
  '\u00a0', '\u0085', '\ufeff', 'İ', '\u2028', '\0', '1', 'NONE', 'CMD-SHELL',
];

function check(data: Uint8Array): void {
  const lines = Buffer.from(data).toString('latin1').split('\n').length;
  try {
    const r = parseDockerfile(data, { file: 'Dockerfile' });
    expect(r.ast.instructions.length).toBeGreaterThan(0);
    r.dump();
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    const err = e as BuildError;
    expect(err.range).toBeDefined();
    expect(err.range!.start.line).toBeGreaterThanOrEqual(1);
    expect(err.range!.start.line).toBeLessThanOrEqual(lines + 1);
    expect(err.range!.start.column).toBeGreaterThanOrEqual(1);
  }
}

const corpus = join(sharedDir(), 'realworld-dockerfiles', 'realworld');
const samples = readdirSync(corpus)
  .filter((f) => f.endsWith('.Dockerfile'))
  .slice(0, 60)
  .map((f) => readFileSync(join(corpus, f)));

describe('parser robustness', () => {
  it('random Dockerfile-ish text gives a tree or a located BuildError', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }), (parts) => {
        check(Buffer.from(parts.join(''), 'utf8'));
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes give a tree or a located BuildError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        check(bytes);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutated real Dockerfiles give a tree or a located BuildError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...PIECES), fc.nat(4)), { minLength: 1, maxLength: 8 }),
        (sample, edits) => {
          let b = Buffer.from(sample);
          for (const [at, piece, del] of edits) {
            const pos = at % (b.length + 1);
            b = Buffer.concat([b.subarray(0, pos), Buffer.from(piece), b.subarray(Math.min(b.length, pos + del))]);
          }
          check(b);
        },
      ),
      { numRuns: 800 },
    );
  });
});
