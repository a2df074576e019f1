// scripts/check-payload.sh, the CI check that the committed action-dist/ is what npm run build
// makes: on a git repository holding a copy of the payload, it passes as committed and fails,
// saying what to do, on a changed, a deleted and a new file.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './shared.js';

const repo = mkdtempSync(join(tmpdir(), 'tsbuild-check-payload-'));
const git = (...args: string[]) => {
  const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
};
const check = () => spawnSync('sh', [join(repoRoot, 'scripts', 'check-payload.sh'), repo], { encoding: 'utf8' });
const STALE = 'action-dist/ is stale: run npm run build and commit action-dist/\n';

beforeAll(() => {
  cpSync(join(repoRoot, 'action-dist'), join(repo, 'action-dist'), { recursive: true });
  writeFileSync(join(repo, 'README.md'), 'other files do not count\n');
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'payload');
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('check-payload.sh', () => {
  it('passes on the payload as committed, whatever else changed', () => {
    appendFileSync(join(repo, 'README.md'), 'an edit\n');
    expect(check()).toMatchObject({ status: 0, stderr: '' });
  });

  it('fails on a changed, a deleted and a new file of the payload, naming it', () => {
    appendFileSync(join(repo, 'action-dist', 'tsbuild.cjs'), '// edited by hand\n');
    expect(check()).toMatchObject({ status: 1, stderr: ` M action-dist/tsbuild.cjs\n${STALE}` });
    git('checkout', '--', 'action-dist');

    unlinkSync(join(repo, 'action-dist', 'native', 'build.json'));
    expect(check()).toMatchObject({ status: 1, stderr: ` D action-dist/native/build.json\n${STALE}` });
    git('checkout', '--', 'action-dist');

    writeFileSync(join(repo, 'action-dist', 'native', 'new.c'), 'int x;\n');
    expect(check()).toMatchObject({ status: 1, stderr: `?? action-dist/native/new.c\n${STALE}` });
    unlinkSync(join(repo, 'action-dist', 'native', 'new.c'));
    expect(check().status).toBe(0);
  });
});
