/**
 * Can this machine run a RUN for a platform? Its own architecture, natively; another one only
 * through a binfmt_misc handler the kernel applies by itself: enabled, matching that
 * architecture's ELF header, and registered with the F (fix binary) flag, so the emulator is
 * found even inside the container's root. Nothing else is assumed (not even 386 on amd64).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** ELF identity of an architecture: class (1 = 32-bit, 2 = 64-bit), data (1 = LE, 2 = BE), e_machine. */
const ELF: Record<string, readonly [number, number, number]> = {
  amd64: [2, 1, 62],
  '386': [1, 1, 3],
  arm64: [2, 1, 183],
  arm: [1, 1, 40],
  ppc64le: [2, 1, 21],
  ppc64: [2, 2, 21],
  s390x: [2, 2, 22],
  riscv64: [2, 1, 243],
  mips64le: [2, 1, 8],
  mips64: [2, 2, 8],
  mipsle: [1, 1, 8],
  mips: [1, 2, 8],
  loong64: [2, 1, 258],
};

/** The first 20 bytes of an ELF executable (ET_EXEC or ET_DYN) for the architecture. */
function elfHeaders(architecture: string): Buffer[] {
  const id = ELF[architecture];
  if (id === undefined) return [];
  const [cls, data, machine] = id;
  return [2, 3].map((type) => {
    const h = Buffer.alloc(20);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, cls, data, 1]).copy(h);
    if (data === 1) {
      h.writeUInt16LE(type, 16);
      h.writeUInt16LE(machine, 18);
    } else {
      h.writeUInt16BE(type, 16);
      h.writeUInt16BE(machine, 18);
    }
    return h;
  });
}

export interface BinfmtEntry {
  readonly name: string;
  readonly enabled: boolean;
  readonly interpreter: string;
  readonly flags: string;
  readonly offset: number;
  readonly magic: Buffer;
  readonly mask: Buffer | undefined;
}

/** One file of binfmt_misc as the kernel shows it; undefined for extension (`E`) entries. */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry | undefined {
  const lines = text.split('\n');
  const field = (key: string) => lines.find((l) => l.startsWith(`${key} `) || l === key)?.slice(key.length + 1).trim();
  const magicLine = field('magic');
  if (magicLine === undefined) return undefined;
  const [magicHex = '', maskHex] = magicLine.split(/\s+/);
  return {
    name,
    enabled: lines[0] === 'enabled',
    interpreter: field('interpreter') ?? '',
    flags: (lines.find((l) => l.startsWith('flags:'))?.slice('flags:'.length) ?? '').trim(),
    offset: Number(field('offset') ?? '0'),
    magic: Buffer.from(magicHex, 'hex'),
    mask: maskHex === undefined ? undefined : Buffer.from(maskHex, 'hex'),
  };
}

function matches(entry: BinfmtEntry, header: Buffer): boolean {
  if (entry.offset + entry.magic.length > header.length) return false;
  for (let i = 0; i < entry.magic.length; i++) {
    const m = entry.mask?.[i] ?? 0xff;
    if ((header[entry.offset + i]! & m) !== (entry.magic[i]! & m)) return false;
  }
  return true;
}

/** The handler that lets the kernel run the architecture's binaries in a container, if any. */
export function emulatorFor(architecture: string, entries: readonly BinfmtEntry[]): BinfmtEntry | undefined {
  const headers = elfHeaders(architecture);
  return entries.find((e) => e.enabled && e.flags.includes('F') && headers.some((h) => matches(e, h)));
}

/** The binfmt_misc entries of this machine (none when binfmt_misc is not mounted). */
export function binfmtEntries(dir = BINFMT_DIR): BinfmtEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n !== 'register' && n !== 'status');
  } catch {
    return [];
  }
  if (!readStatus(dir)) return [];
  return names.flatMap((n) => {
    try {
      const e = parseBinfmtEntry(n, readFileSync(join(dir, n), 'utf8'));
      return e === undefined ? [] : [e];
    } catch {
      return [];
    }
  });
}

function readStatus(dir: string): boolean {
  try {
    return readFileSync(join(dir, 'status'), 'utf8').trim() === 'enabled';
  } catch {
    return false;
  }
}
