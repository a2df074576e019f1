// Who a RUN runs as and with what privileges, end to end through the CLI on the busybox base:
// USER's groups as BuildKit's executor sets them, and RUN --security=insecure with the
// security.insecure entitlement. Results are read from files the RUNs wrote into the image.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { mountsUnder, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-privileges-'));
const root = join(work, 'root');

function build(dir: string, extra: string[] = []) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
}

/** Builds a Dockerfile (its lines) into a rootfs directory and returns that directory. */
function buildToDir(name: string, lines: readonly string[], extra: string[] = []): string {
  const out = join(work, `${name}-out`);
  expectOk(build(writeContext(join(work, name), { Dockerfile: [...lines, ''].join('\n') }), [...extra, '-o', `type=local,dest=${out}`]));
  return out;
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

describe.skipIf(!isRoot && !isCI)('RUN users and privileges, end to end', () => {
  beforeAll(async () => {
    expectOk(build(await busyboxBaseContext(join(work, 'base')), ['-t', 'busybox:test']));
  });

  afterAll(() => {
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('USER lists the primary group among the groups, as BuildKit does', () => {
    const out = buildToDir('user-groups', [
      'FROM busybox:test',
      'RUN id > /id-root',
      'USER app',
      'RUN id > /tmp/id-app',
      'USER 1000:1000',
      'RUN id > /tmp/id-numeric',
      'USER app:extra',
      'RUN id > /tmp/id-named-group',
    ]);
    expect(read(out, 'id-root')).toBe('uid=0(root) gid=0(root) groups=0(root)\n');
    // The implicit form: the passwd entry's group, then those /etc/group lists the user in.
    expect(read(out, 'tmp/id-app')).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n');
    // uid:gid given as numbers is taken as is: no lookup, the group is the only one.
    expect(read(out, 'tmp/id-numeric')).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\n');
    // An explicit group replaces the supplementary groups.
    expect(read(out, 'tmp/id-named-group')).toBe('uid=1000(app) gid=2000(extra) groups=2000(extra)\n');
  });
});
