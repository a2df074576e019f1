// Who a RUN runs as and with what privileges, end to end through the CLI on the busybox base:
// USER's groups as BuildKit's executor sets them, and RUN --security=insecure with the
// security.insecure entitlement. Results are read from files the RUNs wrote into the image.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { buildWorkspace } from './support/build-workspace.js';
import { mountsUnder } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

const { work, build, buildToDir } = buildWorkspace('tsbuild-privileges-');

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

  describe('RUN --security', () => {
    /** The builder's own bounding set: insecure steps get all of it (BuildKit's test expects 0x3fffffffff, a builder holding every capability up to 37). */
    const heldBnd = () => readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\t([0-9a-f]+)$/m)![1]!;
    const held38 = () => (BigInt(`0x${heldBnd()}`) & 0x3fffffffffn).toString(16);
    const insecureCheck = `RUN --security=insecure [ "$(printf '%x' $(( $(cat /proc/self/status | grep CapBnd | cut -f 2 | sed s#^#0x#) & 0x3fffffffff)))" == "${held38()}" ]`;
    const defaultCheck = 'RUN [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]';

    it('testRunSecurityInsecure: every capability with --allow security.insecure, the default set without', () => {
      const out = buildToDir('security-insecure', [
        'FROM busybox:test',
        insecureCheck,
        defaultCheck,
        'RUN --security=insecure grep ^CapEff /proc/self/status > /insecure-caps',
        'RUN grep ^CapEff /proc/self/status > /default-caps',
      ], ['--allow', 'security.insecure']);
      const held = readFileSync('/proc/self/status', 'utf8').match(/^CapEff:.*$/m)![0];
      expect(read(out, 'insecure-caps')).toBe(`${held}\n`);
      expect(read(out, 'default-caps')).toBe('CapEff:\t00000000a80425fb\n');
    });

    it('testRunSecuritySandbox: --security=sandbox is the default set, with no entitlement', () => {
      const out = buildToDir('security-sandbox', [
        'FROM busybox:test',
        'RUN --security=sandbox [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]',
        'RUN --security=sandbox grep -E "^Cap(Eff|Inh)" /proc/self/status > /caps',
      ]);
      expect(read(out, 'caps')).toBe('CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n');
    });

    it('testRunSecurityDefault: a RUN without --security keeps the default set even when insecure is allowed', () => {
      const out = buildToDir('security-default', ['FROM busybox:test', defaultCheck, 'RUN grep ^CapBnd /proc/self/status > /caps'], [
        '--allow',
        'security.insecure',
      ]);
      expect(read(out, 'caps')).toBe('CapBnd:\t00000000a80425fb\n');
    });

    it('testInsecureDevicesWhitelist (without network): the extra devices exist only in insecure steps', () => {
      const out = buildToDir('security-devices', [
        'FROM busybox:test',
        'RUN [ ! -e /dev/fuse ] && [ ! -e /dev/loop-control ]',
        'RUN --security=insecure [ -c /dev/fuse ] && [ -c /dev/loop-control ] && [ -b /dev/loop0 ]',
        'RUN --security=insecure dmesg > /dev/null',
        'RUN --security=insecure mkdir -p /mnt && mount -t tmpfs none /mnt && touch /mnt/x && umount /mnt && echo mounted > /mounted',
      ], ['--allow', 'network.host,security.insecure']);
      expect(read(out, 'mounted')).toBe('mounted\n');
    });

    it('fails with BuildKit\'s message when security.insecure was not granted, before any step runs', () => {
      const dir = writeContext(join(work, 'security-denied'), {
        Dockerfile: 'FROM busybox:test\nRUN touch /ran\nRUN --security=insecure true\n',
      });
      const r = build(dir, ['--allow', 'network.host']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('security-denied/Dockerfile:3:1: security.insecure is not allowed');
      expect(r.stderr).toContain('--allow security.insecure');
      expect(r.stderr).not.toMatch(/RUN touch \/ran/);
    });

    it('takes --allow as buildx does: repeatable, comma-separated, unknown entitlements refused', () => {
      const dir = writeContext(join(work, 'security-flags'), { Dockerfile: 'FROM busybox:test\nRUN true\n' });
      const bad = build(dir, ['--allow', 'security.insecure,network.hots']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('unknown entitlement network.hots');
      expect(build(dir, ['--allow', 'device']).stderr).toContain('not supported yet: --allow device');
    });
  });
});
