// COPY from a stage keeps extended attributes such as security.capability, through the
// native addon (Node has no xattr calls).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileXattrs } from '../../snapshotter/index.js';
import { isCI, isRoot } from '../../test/support/env.js';
import { copy } from './file/index.js';

// /var/tmp, not /tmp: tmpfs may refuse user.* attributes.
const work = mkdtempSync('/var/tmp/tsbuild-xattr-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A file capability set of version 2 granting cap_net_bind_service, as setcap writes it. */
const NET_BIND_SERVICE = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describe.skipIf(!isRoot && !isCI)('COPY keeps extended attributes of stage files', () => {
  it('copies security.capability and user attributes when the source keeps ownership', async () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    mkdirSync(join(src, 'bin'), { recursive: true });
    mkdirSync(dst);
    writeFileSync(join(src, 'bin', 'server'), 'binary');
    await fileXattrs.set(join(src, 'bin', 'server'), 'security.capability', NET_BIND_SERVICE);
    await fileXattrs.set(join(src, 'bin', 'server'), 'user.note', Buffer.from('kept'));
    await copy({
      destRoot: dst,
      dest: '/app/',
      workdir: '/',
      source: { root: src, ownership: 'keep' },
      sources: ['/bin/server'],
      xattrs: fileXattrs,
    });
    const target = join(dst, 'app', 'server');
    expect((await fileXattrs.list(target)).slice().sort()).toEqual(['security.capability', 'user.note']);
    expect(Buffer.from(await fileXattrs.get(target, 'security.capability'))).toEqual(NET_BIND_SERVICE);
    expect(Buffer.from(await fileXattrs.get(target, 'user.note')).toString()).toBe('kept');
  });
});
