/**
 * Platforms (`linux/amd64`, `linux/arm/v7`, `arm64`…), parsed and normalised the way
 * BuildKit's platform library does it, and the platform tsbuild itself runs on.
 */
import { BuildError } from '../../errors/index.js';
import type { Platform } from '../../oci/index.js';

export type { Platform };

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux',
  'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64',
  'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64',
  's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);
const COMPONENT = /^[A-Za-z0-9_.-]+$/;

function normalizeOS(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

function normalizeArch(arch: string, variant: string): [string, string] {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', v === 'v1' ? '' : v];
    case 'aarch64':
    case 'arm64':
      return ['arm64', v === '8' || v === 'v8' || v === 'v8.0' ? '' : v];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (v === '') v = 'v7';
      else if (/^[5-8]$/.test(v)) v = `v${v}`;
      return ['arm', v];
    default:
      return [a, v];
  }
}

function make(os: string, architecture: string, variant: string): Platform {
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** The platform this process runs on (the build platform). */
export function hostPlatform(): Platform {
  const arch: Record<string, [string, string]> = {
    x64: ['amd64', ''],
    arm64: ['arm64', ''],
    arm: ['arm', 'v7'],
    ia32: ['386', ''],
    ppc64: ['ppc64le', ''],
    s390x: ['s390x', ''],
    riscv64: ['riscv64', ''],
    loong64: ['loong64', ''],
  };
  const [a, v] = arch[process.arch] ?? [process.arch, ''];
  return make('linux', a, v);
}

/** Parse `os[/arch[/variant]]` or a bare OS or architecture. Throws BuildError('BAD_PLATFORM'). */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  const bad = (why: string): never => {
    throw new BuildError('BAD_PLATFORM', `"${spec}": ${why}`, {
      hint: 'a platform is written os/arch[/variant], for example linux/amd64 or linux/arm/v7',
    });
  };
  for (const p of parts) if (!COMPONENT.test(p)) bad(`invalid platform component "${p}"`);
  const host = hostPlatform();
  if (parts.length === 1) {
    const word = parts[0]!;
    const os = normalizeOS(word);
    if (KNOWN_OS.has(os)) {
      // An OS alone: the host's architecture when it is the host's OS.
      return os === host.os ? make(os, host.architecture, host.variant ?? '') : make(os, 'amd64', '');
    }
    const [arch, variant] = normalizeArch(word, '');
    if (KNOWN_ARCH.has(arch)) return make('linux', arch, variant);
    return bad('unknown operating system or architecture');
  }
  if (parts.length > 3) bad('too many components');
  const os = normalizeOS(parts[0]!);
  const [arch, variant] = normalizeArch(parts[1]!, parts[2] ?? '');
  if (parts.length === 3 && variant === '' && parts[2] !== '' && arch !== 'arm64' && arch !== 'amd64') {
    return bad('invalid variant');
  }
  return make(os, arch, variant);
}

export function formatPlatform(p: Platform): string {
  return p.variant === undefined || p.variant === '' ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}
