import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binfmtEntries, emulatorFor, parseBinfmtEntry } from './emulation.js';

// What the kernel shows for qemu-user-static's aarch64 handler (Debian), and a variant of it.
const aarch64 = (flags: string, state = 'enabled') =>
  `${state}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\n` +
  'magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n';
const riscv64 = 'enabled\ninterpreter /usr/bin/qemu-riscv64-static\nflags: OCF\noffset 0\n' +
  'magic 7f454c460201010000000000000000000200f300\nmask ffffffffffffff00fffffffffffffffffeffffff\n';

describe('binfmt_misc emulators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'binfmt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds an enabled handler for the architecture\'s ELF header, with the F flag only', () => {
    const fixed = parseBinfmtEntry('qemu-aarch64', aarch64('POCF'))!;
    expect(fixed).toMatchObject({ enabled: true, flags: 'POCF', offset: 0, interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P' });
    expect(emulatorFor('arm64', [fixed])?.name).toBe('qemu-aarch64');
    expect(emulatorFor('riscv64', [fixed])).toBeUndefined();
    expect(emulatorFor('amd64', [fixed])).toBeUndefined();
    // Without F the interpreter would be looked up in the container's root: not usable.
    expect(emulatorFor('arm64', [parseBinfmtEntry('qemu-aarch64', aarch64('POC'))!])).toBeUndefined();
    expect(emulatorFor('arm64', [parseBinfmtEntry('qemu-aarch64', aarch64('POCF', 'disabled'))!])).toBeUndefined();
  });

  it('reads a binfmt_misc directory, and nothing when it is disabled or absent', () => {
    mkdirSync(join(dir, 'on'));
    writeFileSync(join(dir, 'on', 'status'), 'enabled\n');
    writeFileSync(join(dir, 'on', 'register'), '');
    writeFileSync(join(dir, 'on', 'qemu-aarch64'), aarch64('F'));
    writeFileSync(join(dir, 'on', 'qemu-riscv64'), riscv64);
    expect(binfmtEntries(join(dir, 'on')).map((e) => e.name).sort()).toEqual(['qemu-aarch64', 'qemu-riscv64']);
    expect(emulatorFor('riscv64', binfmtEntries(join(dir, 'on')))?.interpreter).toBe('/usr/bin/qemu-riscv64-static');
    writeFileSync(join(dir, 'on', 'status'), 'disabled\n');
    expect(binfmtEntries(join(dir, 'on'))).toEqual([]);
    expect(binfmtEntries(join(dir, 'missing'))).toEqual([]);
  });
});
