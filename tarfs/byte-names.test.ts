import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { rawPathIn, type PathPart } from '../test/support/raw-path.js';
import { byteOrder, fsPath, isPlainName, nameBytes, nameFromBytes, readdirEntries, readdirNames, readlinkName } from './byte-names.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);

describe('nameFromBytes and nameBytes', () => {
  it('give valid UTF-8 its own string, untouched', () => {
    for (const s of ['', 'a', 'ü-umlaut', 'b\uFFFD', '日本', '\u{1F600}x', 'new\nline']) {
      expect(nameFromBytes(Buffer.from(s))).toBe(s);
      expect(nameBytes(s)).toEqual(Buffer.from(s));
      expect(isPlainName(s)).toBe(true);
      expect(fsPath(s)).toBe(s);
    }
  });

  it('escape each byte that is not valid UTF-8 as U+DC00 + byte', () => {
    expect(nameFromBytes(bytes(0x62, 0xff))).toBe('b\uDCFF');
    expect(nameFromBytes(bytes(0x64, 0xfe, 0x2f, 0x78))).toBe('d\uDCFE/x');
    // A sequence cut short, an overlong, an encoded surrogate, a stray continuation byte.
    expect(nameFromBytes(bytes(0xe2, 0x82, 0x41))).toBe('\uDCE2\uDC82A');
    expect(nameFromBytes(bytes(0xc0, 0xaf))).toBe('\uDCC0\uDCAF');
    expect(nameFromBytes(bytes(0xed, 0xa0, 0x80))).toBe('\uDCED\uDCA0\uDC80');
    expect(nameFromBytes(bytes(0x80, 0xc3, 0xbc))).toBe('\uDC80ü');
    expect(nameFromBytes(bytes(0xf0, 0x9f, 0x98, 0x80, 0x80))).toBe('\u{1F600}\uDC80');
    expect(isPlainName('b\uDCFF')).toBe(false);
    expect(fsPath('/ctx/b\uDCFF')).toEqual(Buffer.from('/ctx/b\xff', 'latin1'));
  });

  it('round-trip any bytes exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(nameBytes(nameFromBytes(b))).toEqual(Buffer.from(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('keep valid UTF-8 of any text as Buffer.from has it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(nameFromBytes(Buffer.from(s))).toBe(s);
        expect(nameBytes(s)).toEqual(Buffer.from(s));
      }),
    );
  });

  it('order names by their bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        expect(Math.sign(byteOrder(nameFromBytes(a), nameFromBytes(b)))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
    expect(['b\uDCFF', 'b\uFFFD', 'bz', 'b\u{1F600}'].sort(byteOrder)).toEqual(['bz', 'b\uFFFD', 'b\u{1F600}', 'b\uDCFF']);
  });
});

describe('reading directories and links without loss', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-byte-names-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (...parts: PathPart[]): Buffer => rawPathIn(dir, ...parts);

  it('name every entry as it is on disk', () => {
    writeFileSync(at('plain'), 'p');
    writeFileSync(at('b\uFFFD'), 'literal');
    writeFileSync(at('b', [0xff]), 'raw');
    mkdirSync(at('d', [0xfe]));
    symlinkSync(Buffer.from([0x74, 0xff]), at('link'));
    const entries = readdirEntries(dir).sort((a, b) => byteOrder(a.name, b.name));
    expect(entries.map((e) => [e.name, e.isDirectory()])).toEqual([
      ['b\uFFFD', false],
      ['b\uDCFF', false],
      ['d\uDCFE', true],
      ['link', false],
      ['plain', false],
    ]);
    expect(readFileSync(fsPath(`${dir}/b\uDCFF`), 'utf8')).toBe('raw');
    expect(readFileSync(fsPath(`${dir}/b\uFFFD`), 'utf8')).toBe('literal');
    expect(readlinkName(`${dir}/link`)).toBe('t\uDCFF');
    expect(readdirNames(`${dir}/d\uDCFE`)).toEqual([]);
  });

  it('read a directory of plain names as fs.readdirSync does', () => {
    const plain = join(dir, 'plain-dir');
    mkdirSync(plain);
    writeFileSync(join(plain, 'x'), '');
    expect(readdirNames(plain)).toEqual(['x']);
  });
});
