/**
 * Real overlayfs: layers made through overlay mounts, their diffs, and the round trip back
 * through applyTar. Needs root (mount, trusted.* xattrs, mknod). Mounts are made in this
 * process under a temp dir and undone in afterEach, which also checks /proc/self/mountinfo.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S_IFIFO, native } from '../native/index.js';
import {
  applyTar,
  asActiveKey as key,
  asSnapshotName as name,
  diffID,
  diffTar,
  fitsMountData,
  openOverlaySnapshotter,
  type SnapshotDirectories,
  type SnapshotName,
  type Snapshotter,
} from '../snapshotter/index.js';
import { mountAt, unmount } from '../solver/ops/mount.js';
import { readTar } from '../tarfs/index.js';

import { isCI, isRoot } from './support/env.js';

/** The overlay snapshotter as openOverlaySnapshotter gives it. */
type OverlaySnapshotter = Snapshotter & SnapshotDirectories;

/** cap_net_bind_service+ep, as a v2 security.capability value. */
const CAP_NET_BIND_SERVICE = Buffer.from('0100000200040000000000000000000000000000', 'hex');

let base: string;
let mounted: string[] = [];

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(dir) === true);
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'tsbuild-layers-'));
  mounted = [];
});

afterEach(async () => {
  for (const target of mounted.reverse()) unmount(target);
  expect(mountsUnder(base)).toEqual([]);
  await rm(base, { recursive: true, force: true });
});

async function mountSnapshot(s: OverlaySnapshotter, k: string, parent?: SnapshotName): Promise<string> {
  const mounts = await s.prepare(key(k), parent);
  const target = join(base, 'mnt', k);
  await mkdir(target, { recursive: true });
  mountAt(mounts, target);
  mounted.push(target);
  return target;
}

function umountLast(target: string): void {
  unmount(target);
  mounted = mounted.filter((t) => t !== target);
}

interface Listed {
  name: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  xattrs?: Record<string, string>;
}

async function list(tar: AsyncIterable<Uint8Array>): Promise<Listed[]> {
  const out: Listed[] = [];
  for await (const { header: h, body } of readTar(tar)) {
    for await (const chunk of body) void chunk;
    const entry: Listed = { name: h.name, type: h.type, mode: h.mode.toString(8), uid: h.uid, gid: h.gid, size: h.size };
    if (h.linkname !== '') entry.linkname = h.linkname;
    if (h.xattrs.size > 0) entry.xattrs = Object.fromEntries([...h.xattrs].map(([k, v]) => [k, v.toString('hex')]));
    out.push(entry);
  }
  return out;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Three layers through real overlay mounts; returns the snapshotter and the top layer's upper dir. */
async function threeLayers(): Promise<{ s: OverlaySnapshotter; upper: string; lowers: readonly string[] }> {
  const s = await openOverlaySnapshotter(join(base, 'snapshots'));

  const m1 = await mountSnapshot(s, 'k1');
  await mkdir(join(m1, 'etc'));
  await writeFile(join(m1, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(join(m1, 'etc', 'old.conf'), 'old\n');
  await writeFile(join(m1, 'etc', 'old2.conf'), 'old\n');
  await mkdir(join(m1, 'opt', 'dir'), { recursive: true });
  await writeFile(join(m1, 'opt', 'dir', 'a'), 'a');
  await writeFile(join(m1, 'opt', 'dir', 'b'), 'b');
  await mkdir(join(m1, 'bin'));
  await writeFile(join(m1, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  await mkdir(join(m1, 'data'));
  await writeFile(join(m1, 'data', 'x'), 'x');
  umountLast(m1);
  await s.commit(name('l1'), key('k1'));

  const m2 = await mountSnapshot(s, 'k2', name('l1'));
  await mkdir(join(m2, 'usr', 'lib'), { recursive: true });
  await writeFile(join(m2, 'usr', 'lib', 'libfoo.so'), Buffer.alloc(100_000, 7));
  umountLast(m2);
  await s.commit(name('l2'), key('k2'));

  const m3 = await mountSnapshot(s, 'k3', name('l2'));
  await unlink(join(m3, 'etc', 'old.conf'));
  await unlink(join(m3, 'etc', 'old2.conf')); // overlay may share one whiteout inode: not a hard link
  await rm(join(m3, 'opt', 'dir'), { recursive: true });
  await mkdir(join(m3, 'opt', 'dir'));
  await writeFile(join(m3, 'opt', 'dir', 'c'), 'c');
  await mkdir(join(m3, 'new'));
  await writeFile(join(m3, 'new', 'f1'), 'linked');
  await link(join(m3, 'new', 'f1'), join(m3, 'new', 'f2'));
  native().mknod(join(m3, 'new', 'fifo'), S_IFIFO | 0o640, 0);
  await symlink('../etc/passwd', join(m3, 'new', 'link'));
  native().lsetxattr(join(m3, 'new', 'f1'), 'user.note', Buffer.from('hello'), 0);
  await chmod(join(m3, 'data', 'x'), 0o600);
  await chown(join(m3, 'data', 'x'), 1000, 1000);
  native().lsetxattr(join(m3, 'bin', 'tool'), 'security.capability', CAP_NET_BIND_SERVICE, 0);
  umountLast(m3);

  return { s, upper: await s.upperDir(key('k3')), lowers: await s.lowerDirs(name('l2')) };
}

describe.skipIf(!isRoot && !isCI)('layers on real overlayfs', () => {
  it('diffTar of the top layer holds exactly its changes, deterministically', async () => {
    const { upper } = await threeLayers();
    const entries = await list(diffTar(upper));
    expect(entries).toEqual([
      { name: 'bin/', type: 'dir', mode: '755', uid: 0, gid: 0, size: 0 },
      { name: 'bin/tool', type: 'file', mode: '755', uid: 0, gid: 0, size: 10, xattrs: { 'security.capability': CAP_NET_BIND_SERVICE.toString('hex') } },
      { name: 'data/', type: 'dir', mode: '755', uid: 0, gid: 0, size: 0 },
      { name: 'data/x', type: 'file', mode: '600', uid: 1000, gid: 1000, size: 1 },
      { name: 'etc/', type: 'dir', mode: '755', uid: 0, gid: 0, size: 0 },
      { name: 'etc/.wh.old.conf', type: 'file', mode: '0', uid: 0, gid: 0, size: 0 },
      { name: 'etc/.wh.old2.conf', type: 'file', mode: '0', uid: 0, gid: 0, size: 0 },
      { name: 'new/', type: 'dir', mode: '755', uid: 0, gid: 0, size: 0 },
      { name: 'new/f1', type: 'file', mode: '644', uid: 0, gid: 0, size: 6, xattrs: { 'user.note': Buffer.from('hello').toString('hex') } },
      { name: 'new/f2', type: 'link', mode: '644', uid: 0, gid: 0, size: 0, linkname: 'new/f1', xattrs: { 'user.note': Buffer.from('hello').toString('hex') } },
      { name: 'new/fifo', type: 'fifo', mode: '640', uid: 0, gid: 0, size: 0 },
      { name: 'new/link', type: 'symlink', mode: '777', uid: 0, gid: 0, size: 0, linkname: '../etc/passwd' },
      { name: 'opt/', type: 'dir', mode: '755', uid: 0, gid: 0, size: 0 },
      { name: 'opt/dir/', type: 'dir', mode: '755', uid: 0, gid: 0, size: 0 },
      { name: 'opt/dir/.wh..wh..opq', type: 'file', mode: '0', uid: 0, gid: 0, size: 0 },
      { name: 'opt/dir/c', type: 'file', mode: '644', uid: 0, gid: 0, size: 1 },
    ]);

    const first = await bytesOf(diffTar(upper));
    const second = await bytesOf(diffTar(upper));
    expect(second.equals(first)).toBe(true);
    const expected = `sha256:${createHash('sha256').update(first).digest('hex')}`;
    expect(await diffID(upper)).toBe(expected);
    expect(await diffID(upper)).toBe(expected);
  });

  it('clamps mtimes to SOURCE_DATE_EPOCH', async () => {
    const { upper } = await threeLayers();
    const epoch = 1_000_000_000;
    const mtimes: number[] = [];
    for await (const { header, body } of readTar(diffTar(upper, { sourceDateEpoch: epoch }))) {
      for await (const c of body) void c;
      mtimes.push(header.mtime);
    }
    expect(new Set(mtimes)).toEqual(new Set([epoch]));
    expect(await diffID(upper, { sourceDateEpoch: epoch })).not.toBe(await diffID(upper));
  });

  it('applyTar of the diff recreates the layer: whiteouts, opaque dir, links, modes, xattrs', async () => {
    const { upper } = await threeLayers();
    const target = join(base, 'applied');
    await mkdir(target);
    await applyTar(diffTar(upper), target);

    const wh = await lstat(join(target, 'etc', 'old.conf'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect((await lstat(join(target, 'etc', 'old2.conf'))).isCharacterDevice()).toBe(true);
    expect(native().lgetxattr(join(target, 'opt', 'dir'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(native().lgetxattr(join(target, 'bin', 'tool'), 'security.capability')).toEqual(CAP_NET_BIND_SERVICE);
    const f1 = await lstat(join(target, 'new', 'f1'));
    const f2 = await lstat(join(target, 'new', 'f2'));
    expect(f2.ino).toBe(f1.ino);
    const x = await lstat(join(target, 'data', 'x'));
    expect([x.mode & 0o7777, x.uid, x.gid]).toEqual([0o600, 1000, 1000]);
    expect((await lstat(join(target, 'new', 'fifo'))).isFIFO()).toBe(true);
    expect((await lstat(join(target, 'opt', 'dir', 'c'))).isFile()).toBe(true);

    // The strongest check: the applied directory diffs to the very same bytes.
    expect(await diffID(target)).toBe(await diffID(upper));
  });

  it('an applied layer works as an overlay lower: whiteouts hide, opaque dirs hide', async () => {
    const { s, upper } = await threeLayers();
    const applied = join(base, 'applied');
    await mkdir(applied);
    await applyTar(diffTar(upper), applied);
    const view = join(base, 'mnt', 'view');
    await mkdir(view, { recursive: true });
    const lowers = [applied, ...(await s.lowerDirs(name('l2')))];
    mountAt([{ type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${lowers.join(':')}`] }], view);
    mounted.push(view);
    expect((await readdir(join(view, 'etc'))).sort()).toEqual(['passwd']);
    const upperWhiteout = await lstat(join(upper, 'etc', 'old2.conf'));
    expect(upperWhiteout.isCharacterDevice()).toBe(true);
    expect((await readdir(join(view, 'opt', 'dir'))).sort()).toEqual(['c']);
    expect(await readFile(join(view, 'usr', 'lib', 'libfoo.so'))).toEqual(Buffer.alloc(100_000, 7));
    expect(native().lgetxattr(join(view, 'bin', 'tool'), 'security.capability')).toEqual(CAP_NET_BIND_SERVICE);
  });

  it('a view mounts read-only and a diff streams large files intact', async () => {
    const { s } = await threeLayers();
    const target = join(base, 'mnt', 'view');
    await mkdir(target, { recursive: true });
    mountAt(await s.view(key('v'), name('l2')), target);
    mounted.push(target);
    expect(await readFile(join(target, 'etc', 'old.conf'), 'utf8')).toBe('old\n');
    await expect(writeFile(join(target, 'nope'), 'x')).rejects.toMatchObject({ code: 'EROFS' });

    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    await writeFile(join(await s.upperDir(name('l2')), 'usr', 'big.bin'), big);
    for await (const { header, body } of readTar(diffTar(await s.upperDir(name('l2'))))) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      if (header.name === 'usr/big.bin') expect(Buffer.concat(chunks).equals(big)).toBe(true);
      if (header.name === 'usr/lib/libfoo.so') expect(Buffer.concat(chunks)).toEqual(Buffer.alloc(100_000, 7));
    }
  });

  it('a writable snapshot mounts volatile (no sync of the file system at unmount), and mounts again after an unmount', async () => {
    const { s } = await threeLayers();
    const target = await mountSnapshot(s, 'twice', name('l2'));
    await writeFile(join(target, 'first'), '1\n');
    const options = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(` ${target} `));
    expect(options).toMatch(/[ ,](fsync=)?volatile(,|$)/); // shown as fsync=volatile since Linux 6.x
    umountLast(target);
    // overlayfs refuses a work dir a volatile mount has marked; mountAt clears that mark.
    mountAt(await s.mounts(key('twice')), target);
    mounted.push(target);
    await writeFile(join(target, 'second'), '2\n');
    umountLast(target);
    expect((await readdir(await s.upperDir(key('twice')))).sort()).toEqual(['first', 'second']);
  });

  it('mounts a chain of 60 layers whose absolute lowerdir option exceeds a page', async () => {
    const deep = join(base, 'a'.repeat(120), 'b'.repeat(120), 'snapshots');
    const s = await openOverlaySnapshotter(deep);
    let parent: SnapshotName | undefined;
    for (let i = 0; i < 60; i++) {
      await s.prepare(key(`deep-${i}`), parent);
      await writeFile(join(await s.upperDir(key(`deep-${i}`)), `layer-${i}`), String(i));
      await s.commit(name(`deep-layer-${i}`), key(`deep-${i}`));
      parent = name(`deep-layer-${i}`);
    }
    const mounts = await s.prepare(key('deep-top'), parent);
    expect(fitsMountData(mounts[0]!)).toBe(false);
    const target = join(base, 'mnt', 'deep');
    await mkdir(target, { recursive: true });
    mountAt(mounts, target);
    mounted.push(target);
    const names = await readdir(target);
    expect(names).toHaveLength(60);
    expect(await readFile(join(target, 'layer-0'), 'utf8')).toBe('0');
    await writeFile(join(target, 'top'), 'written through the overlay');
    expect(await readdir(await s.upperDir(key('deep-top')))).toEqual(['top']);
  });

  it('mountAt undoes nothing it did not do and reports a failed mount as MOUNT', async () => {
    const target = join(base, 'mnt', 'bad');
    await mkdir(target, { recursive: true });
    expect(() => mountAt([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${join(base, 'missing')}`] }], target)).toThrow(
      expect.objectContaining({ reason: 'MOUNT' }),
    );
    expect(mountsUnder(base)).toEqual([]);
  });
});
