/** One test file's work directory and state root, with the CLI builds its tests repeat. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsbuildSync, type Run } from './cli.js';
import { expectOk, writeContext } from './workspace.js';

export interface BuildWorkspace {
  readonly work: string;
  readonly root: string;
  /** `tsbuild build --root ROOT --progress plain EXTRA… DIR`. */
  build(dir: string, extra?: readonly string[]): Run;
  /** Builds a Dockerfile (its lines) into a rootfs directory (`-o type=local`) and returns that directory. */
  buildToDir(name: string, lines: readonly string[], extra?: readonly string[]): string;
}

export function buildWorkspace(prefix: string): BuildWorkspace {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const root = join(work, 'root');
  const build = (dir: string, extra: readonly string[] = []) => tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
  return {
    work,
    root,
    build,
    buildToDir(name, lines, extra = []) {
      const out = join(work, `${name}-out`);
      expectOk(build(writeContext(join(work, name), { Dockerfile: [...lines, ''].join('\n') }), [...extra, '-o', `type=local,dest=${out}`]));
      return out;
    },
  };
}
