/**
 * A RUN executes the image's binaries: on this machine's own architecture, or through a
 * binfmt_misc emulator the kernel applies by itself (executor/emulation.ts). Anything else
 * would run host binaries under another platform's name, or fail obscurely: refused before
 * any step runs.
 */
import { BuildError, type SourceRange } from '../errors/index.js';
import { binfmtEntries, emulatorFor } from '../executor/index.js';
import { formatPlatform, hostPlatform, type Platform } from '../frontend/index.js';

export function checkRunnable(platform: Platform, range: SourceRange): void {
  const host = hostPlatform();
  if (platform.os !== host.os) {
    throw new BuildError('NOT_SUPPORTED', `not supported yet: RUN for ${formatPlatform(platform)} on this ${formatPlatform(host)} machine`, { range });
  }
  if (platform.architecture === host.architecture || emulatorFor(platform.architecture, binfmtEntries()) !== undefined) return;
  throw new BuildError('NOT_SUPPORTED', `not supported yet: RUN for ${formatPlatform(platform)} on this ${formatPlatform(host)} machine without an emulator`, {
    range,
    hint:
      `register a binfmt_misc emulator for ${platform.architecture} with the F flag (e.g. Debian's qemu-user-static), ` +
      `run this step on the build platform (FROM --platform=$BUILDPLATFORM), or build for ${formatPlatform(host)}`,
  });
}
