// What the frontend checks before a build runs anything, through the CLI: build checks
// (`# check=skip=…` silences rules, `# check=error=true` fails the build and nothing is
// written, BUILDKIT_DOCKERFILE_CHECK replaces the directive) and ADD --checksum's sources.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-checks-'));
const root = join(work, 'root');

function build(name: string, dockerfile: string, extra: string[] = []) {
  const dir = writeContext(join(work, name), { Dockerfile: dockerfile, 'a.txt': 'a\n' });
  const out = join(work, `${name}-out`);
  const r = tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, '-o', `type=local,dest=${out}`, dir]);
  return { ...r, out };
}

describe.skipIf(!isRoot && !isCI)('build checks, end to end', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const body = 'FROM scratch AS Base\nMAINTAINER me@example.org\nCOPY a.txt /a.txt\n';

  it('check=error=true fails the build with BuildKit\'s message, the warnings in the hint, and writes nothing', () => {
    const r = build('error', `# check=error=true\n${body}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: lint violation found for rules: StageNameCasing, MaintainerDeprecated\n');
    expect(r.stderr).toContain("StageNameCasing: Stage name 'Base' should be lowercase (line 2)");
    expect(r.stderr).toContain('MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 3)');
    expect(existsSync(r.out)).toBe(false);
  });

  it('check=skip=… silences those rules; error=true then has nothing to fail on', () => {
    const r = build('skip', `# check=skip=StageNameCasing,MaintainerDeprecated;error=true\n${body}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('WARNING');
    expect(readFileSync(join(r.out, 'a.txt'), 'utf8')).toBe('a\n');
    const warned = build('warn', body);
    expect(warned.status, warned.stderr).toBe(0);
    expect(warned.stderr).toContain("Stage name 'Base' should be lowercase");
  });

  it('BUILDKIT_DOCKERFILE_CHECK replaces the directive', () => {
    const relaxed = build('arg-skip', `# check=error=true\n${body}`, ['--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=all']);
    expect(relaxed.status, relaxed.stderr).toBe(0);
    expect(relaxed.stderr).not.toContain('WARNING');
    const strict = build('arg-error', body, ['--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=StageNameCasing;error=true']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('error: lint violation found for rules: MaintainerDeprecated\n');
  });

  it('ADD --checksum on a local source fails as in BuildKit, at its line, before anything is written', () => {
    const r = build('add-checksum', 'FROM scratch\nCOPY a.txt /a.txt\nADD --checksum=sha256:24ab7fd5bb8fb0c1b8ae3e0c8c6d1b4f6e2d8c2a1f3e3b3c1d2e3f4a5b6c7d8e a.txt /b.txt\n');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('add-checksum/Dockerfile:3:1: checksum requires HTTP(S) or Git sources\n');
    expect(r.stderr).not.toContain('COPY a.txt');
    expect(existsSync(r.out)).toBe(false);
  });
});
