// The payload is deterministic: scripts/payload.mjs run again, into another directory, gives
// byte for byte the action-dist/ that npm run build (run before the tests) made; and it names
// no path of the machine that built it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './shared.js';

const out = mkdtempSync(join(tmpdir(), 'tsbuild-payload-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const files = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();

describe('scripts/payload.mjs', () => {
  it('builds the same bytes twice, with no absolute path of this machine in them', () => {
    const again = join(out, 'payload');
    const r = spawnSync(process.execPath, ['scripts/payload.mjs', again], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const committed = join(repoRoot, 'action-dist');
    expect(files(again)).toEqual(files(committed));
    expect(files(again)).toContain('tsbuild.cjs');
    for (const f of files(again)) {
      const bytes = readFileSync(join(again, f));
      expect(bytes.equals(readFileSync(join(committed, f))), f).toBe(true);
      if (!f.endsWith('.node')) expect(bytes.includes(repoRoot), f).toBe(false);
    }
  });
});
