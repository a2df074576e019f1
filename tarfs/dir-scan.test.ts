import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, type BigIntStats } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isCI, isRoot } from '../test/support/env.js';
import { rawPath } from '../test/support/raw-path.js';
import {
  F_CTIME_NSEC,
  F_CTIME_SEC,
  F_FLAGS,
  F_GID,
  F_INO_HI,
  F_INO_LO,
  F_MODE,
  F_MTIME_NSEC,
  F_MTIME_SEC,
  F_RDEV_HI,
  F_RDEV_LO,
  F_SIZE,
  F_UID,
  SCAN_BY_PATH,
  SCAN_FIELDS,
  DirScanner,
  scanDir,
  type DirScan,
} from './dir-scan.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, makedev, native } from '../native/index.js';
import { fsPath, nameFromBytes } from './byte-names.js';

const work = mkdtempSync('/var/tmp/tsbuild-dir-scan-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An entry's fields as lstat gives them, in the scan's layout. */
function fieldsOf(s: BigIntStats): number[] {
  const split = (ns: bigint): [number, number] => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  const f = new Array<number>(SCAN_FIELDS).fill(0);
  f[F_MODE] = Number(s.mode);
  f[F_UID] = Number(s.uid);
  f[F_GID] = Number(s.gid);
  f[F_SIZE] = Number(s.size);
  [f[F_MTIME_SEC], f[F_MTIME_NSEC]] = split(s.mtimeNs);
  [f[F_CTIME_SEC], f[F_CTIME_NSEC]] = split(s.ctimeNs);
  [f[F_INO_HI], f[F_INO_LO]] = [Number(s.ino >> 32n), Number(s.ino & 0xffffffffn)];
  [f[F_RDEV_HI], f[F_RDEV_LO]] = [Number(s.rdev >> 32n), Number(s.rdev & 0xffffffffn)];
  return f;
}

const entry = (scan: DirScan, i: number): number[] => [...scan.fields.subarray(i * SCAN_FIELDS, (i + 1) * SCAN_FIELDS)];

describe.skipIf(!isRoot && !isCI)('scanDir', () => {
  const dir = join(work, 'tree');
  let server: Server | undefined;

  beforeAll(async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'file'), 'content');
    writeFileSync(join(dir, 'sub', 'inner'), '');
    writeFileSync(join(dir, 'new\nline'), 'n');
    writeFileSync(join(dir, 'ü'), 'u');
    writeFileSync(join(dir, 'B'), 'b');
    writeFileSync(rawPath(dir, '/', [0x62, 0xff]), 'not utf-8');
    symlinkSync('file', join(dir, 'link'));
    symlinkSync('/nowhere', join(dir, 'dangling'));
    native().mknod(join(dir, 'fifo'), S_IFIFO | 0o640, 0);
    native().mknod(join(dir, 'chr'), S_IFCHR | 0o600, makedev(1, 3));
    native().mknod(join(dir, 'blk'), S_IFBLK | 0o600, makedev(4095, 0xfffff));
    const listening = createServer();
    server = listening;
    await new Promise<void>((resolve) => listening.listen(join(dir, 'sock'), resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });

  it('gives readdir’s names in byte order, each with the fields lstat gives', () => {
    const scan = scanDir(dir);
    // libuv sorts fs.readdirSync's names by their bytes (strcmp), as scanDir does; a name
    // that is not UTF-8 comes back byte-escaped, where readdirSync gives a lossy string.
    expect(scan.names).toEqual(readdirSync(dir, { encoding: 'buffer' }).map(nameFromBytes));
    expect(scan.names).toContain('new\nline');
    expect(scan.names).toContain('b\uDCFF');
    expect(scan.byPath).toBe(false);
    expect(scan.dirs).toBe(1);
    for (let i = 0; i < scan.names.length; i++) {
      const name = scan.names[i]!;
      expect({ name, fields: entry(scan, i) }).toEqual({ name, fields: fieldsOf(lstatSync(fsPath(join(dir, name)), { bigint: true })) });
    }
  });

  it('reads a directory whose path is not UTF-8, and names below it, by their bytes', () => {
    const top = rawPath(work, '/', [0x64, 0xfe]);
    mkdirSync(top);
    writeFileSync(Buffer.concat([top, rawPath('/x', [0x80])]), '1');
    writeFileSync(Buffer.concat([top, rawPath('/x')]), '2');
    const scan = scanDir(`${work}/d\uDCFE`);
    expect(scan.names).toEqual(['x', 'x\uDC80']);
    expect(entry(scan, 1)[F_SIZE]).toBe(1);
    expect(entry(scan, 1)[F_FLAGS]).toBe(0);
    const scanner = new DirScanner(2);
    onTestFinished(() => scanner.close());
    scanner.expect([`${work}/d\uDCFE`]);
    expect(scanner.take(`${work}/d\uDCFE`)).toEqual(scan);
  });

  it('gives an empty directory no entries, and follows a symlink to a directory as readdir does', () => {
    mkdirSync(join(dir, 'sub', 'empty'));
    expect(scanDir(join(dir, 'sub', 'empty'))).toEqual({ names: [], fields: new Float64Array(0), byPath: false, dirs: 0 });
    symlinkSync('sub', join(dir, 'sublink'));
    expect(scanDir(join(dir, 'sublink')).names).toEqual(['empty', 'inner']);
  });

  it('throws Node-shaped errors', () => {
    expect(() => scanDir(join(dir, 'missing'))).toThrow(
      expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'scandir', path: join(dir, 'missing') }),
    );
    expect(() => scanDir(join(dir, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR', syscall: 'scandir' }));
    expect(() => scanDir(`${dir}\0x`)).toThrow(TypeError);
  });

  it('leaves an entry whose path is too long for one lstat to a lookup by path', () => {
    // Made one component at a time, from inside (a child process may chdir), so that no
    // path given to the kernel is too long; removed the same way (coreutils rm works by fd).
    const deep = join(work, 'deep');
    mkdirSync(deep);
    onTestFinished(() => void spawnSync('rm', ['-rf', deep]));
    const component = 'd'.repeat(250);
    const depth = Math.ceil((4096 - Buffer.byteLength(deep)) / (component.length + 1));
    const script = `const fs = require('node:fs');
      process.chdir(process.argv[1]);
      for (let i = 0; i < ${depth}; i++) { fs.mkdirSync('${component}'); process.chdir('${component}'); }
      fs.writeFileSync('f', 'x');
      fs.mkdirSync('../g');`;
    expect(spawnSync(process.execPath, ['-e', script, deep], { stdio: 'inherit' }).status).toBe(0);
    // The deepest directory's path is past PATH_MAX; its parent's is not.
    const parent = [deep, ...new Array<string>(depth - 1).fill(component)].join('/');
    expect(Buffer.byteLength(parent)).toBeLessThan(4096);
    const scan = scanDir(parent);
    expect(scan.names).toEqual([component, 'g']);
    expect(Buffer.byteLength(`${parent}/${component}`)).toBeGreaterThanOrEqual(4096);
    expect(entry(scan, 0)[F_FLAGS]).toBe(SCAN_BY_PATH);
    expect(() => lstatSync(`${parent}/${component}`)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => scanDir(`${parent}/${component}`)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG', syscall: 'scandir' }));
  });

  it('leaves out entries removed while it reads, and never fails for them', async () => {
    const busy = join(work, 'busy');
    mkdirSync(busy);
    for (let i = 0; i < 50; i++) writeFileSync(join(busy, `stay-${i}`), '');
    // Another process creates and removes files as fast as it can while the scans run.
    const churn = spawn('sh', ['-c', 'cd "$1" && while :; do for i in 0 1 2 3 4 5 6 7 8 9; do : > x$i; done; rm -f x*; done', 'sh', busy], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 20));
      for (let round = 0; round < 400; round++) {
        const scan = scanDir(busy);
        expect(scan.names.filter((n) => n.startsWith('stay-'))).toHaveLength(50);
        for (let i = 0; i < scan.names.length; i++) {
          expect(entry(scan, i)[F_FLAGS]).toBe(0);
          expect(entry(scan, i)[F_MODE]! & 0o170000).toBe(0o100000);
        }
      }
    } finally {
      churn.kill('SIGKILL');
    }
  });
});

describe('DirScanner', () => {
  const root = join(work, 'scanner');
  const dirs = Array.from({ length: 30 }, (_, i) => join(root, `d${String(i).padStart(2, '0')}`));

  beforeAll(() => {
    for (const [i, dir] of dirs.entries()) {
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < i; f++) writeFileSync(join(dir, `f${f}`), 'x'.repeat(f));
    }
  });

  it('gives what scanDir gives, for directories scanned ahead or not', () => {
    const scanner = new DirScanner(4);
    try {
      scanner.expect(dirs.slice(0, 20));
      for (const dir of [...dirs.slice(0, 10), dirs[25]!, ...dirs.slice(10, 20)]) expect(scanner.take(dir)).toEqual(scanDir(dir));
      // Expected later, taken out of order, or taken twice.
      scanner.expect(dirs.slice(20));
      expect(scanner.take(dirs[29]!)).toEqual(scanDir(dirs[29]!));
      expect(scanner.take(dirs[20]!)).toEqual(scanDir(dirs[20]!));
      expect(scanner.take(dirs[20]!)).toEqual(scanDir(dirs[20]!));
    } finally {
      scanner.close();
    }
  });

  it('throws scanDir’s errors from take, and leaves the directories after it unharmed', () => {
    const scanner = new DirScanner(8);
    try {
      const missing = join(root, 'missing');
      scanner.expect([dirs[1]!, missing, join(dirs[2]!, 'f0'), dirs[3]!]);
      expect(scanner.take(dirs[1]!)).toEqual(scanDir(dirs[1]!));
      expect(() => scanner.take(missing)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'scandir', path: missing }));
      expect(() => scanner.take(join(dirs[2]!, 'f0'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
      expect(scanner.take(dirs[3]!)).toEqual(scanDir(dirs[3]!));
    } finally {
      scanner.close();
    }
  });

  it('closes with scans queued, under way and done, and refuses a take after', async () => {
    for (let round = 0; round < 20; round++) {
      const scanner = new DirScanner(16);
      scanner.expect(dirs);
      if (round % 2 === 0) await new Promise((r) => setTimeout(r, 1)); // let some finish
      expect(scanner.take(dirs[0]!)).toEqual(scanDir(dirs[0]!));
      scanner.close();
      expect(() => scanner.take(dirs[1]!)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    }
    await new Promise((r) => setTimeout(r, 20)); // the dropped scans' completions run, and free them
  });
});
