/**
 * Compression codecs of layer blobs as streams: gzip through node's zlib; zstd through zlib
 * where this Node has it (22.15+, 23.8+), else through Debian's `zstd` program, fed and read
 * as a pipe so nothing is buffered whole. A codec that cannot run here fails loudly.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { Duplex, Readable, type Transform } from 'node:stream';
import { BuildError } from '../errors/index.js';
import type { Compression } from '../oci/index.js';

export type { Compression };

/** What zlib offers for zstd, where it offers anything. */
interface ZstdZlib {
  createZstdCompress?: (options?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
  constants: { ZSTD_c_compressionLevel?: number; ZSTD_c_nbWorkers?: number };
}
// node:zlib is loaded on first use, not at every start.
const zlib = () => process.getBuiltinModule('node:zlib');
const zstd = () => zlib() as unknown as ZstdZlib;

/** Output chunk size of the zlib codecs. */
const CHUNK = 1 << 20;

/** A compressing stream, or undefined for `uncompressed`. `level`: gzip 0..9, zstd 1..22. */
export function compressor(compression: Compression, level?: number): Duplex | undefined {
  switch (compression) {
    case 'uncompressed':
      return undefined;
    case 'gzip':
      return zlib().createGzip({ chunkSize: CHUNK, ...(level === undefined ? {} : { level }) });
    case 'zstd': {
      const z = zstd();
      if (z.createZstdCompress && z.constants.ZSTD_c_compressionLevel !== undefined) {
        return z.createZstdCompress({ params: { [z.constants.ZSTD_c_compressionLevel]: level ?? 3 } });
      }
      return zstdProgram(['-q', '-c', `-${level ?? 3}`, ...(level !== undefined && level > 19 ? ['--ultra'] : [])]);
    }
  }
}

/** A decompressing stream, or undefined for `uncompressed`. */
export function decompressor(compression: Compression): Duplex | undefined {
  switch (compression) {
    case 'uncompressed':
      return undefined;
    case 'gzip':
      // zlib's default 16 KiB output chunks make a 100 MB layer 6,400 writes downstream;
      // 1 MiB chunks cut the per-chunk cost (measured: gunzip alone 590 → 140 ms per 100 MB).
      return zlib().createGunzip({ chunkSize: CHUNK });
    case 'zstd': {
      const z = zstd();
      if (z.createZstdDecompress) return z.createZstdDecompress();
      return zstdProgram(['-q', '-d', '-c']);
    }
  }
}

/** How a program stream names its failures. */
export interface ProgramErrors {
  /** The program is not on $PATH. */
  readonly missing: () => Error;
  /** It ended badly: `status` says how ("exited with 1"), `stderr` is what it printed. */
  readonly failed: (status: string, stderr: string) => Error;
}

/**
 * A program reading stdin and writing stdout, as one duplex stream (decoders Node lacks).
 * A missing program throws at once; a bad exit fails the readable side, after its last
 * byte, so a pipeline through it fails too; destroying the stream kills the program.
 */
export function programStream(cmd: string, args: readonly string[], errors: ProgramErrors): Duplex {
  const path = onPath(cmd);
  if (path === undefined) throw errors.missing();
  // node:child_process only when a program runs: loading it costs every start ~3 ms.
  const child = process.getBuiltinModule('node:child_process').spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      reject(errors.failed(signal !== null ? `was killed by ${signal}` : `exited with ${code}`, Buffer.concat(stderr).toString('utf8')));
    });
  });
  exited.catch(() => {}); // observed through the readable side below
  // The output ends only once the program has exited well: a late failure still fails the stream.
  async function* output(): AsyncGenerator<Buffer> {
    yield* child.stdout as AsyncIterable<Buffer>;
    await exited;
  }
  child.stdin.on('error', () => {}); // EPIPE when the program dies early; its exit says why
  const duplex = Duplex.from({ writable: child.stdin, readable: Readable.from(output(), { objectMode: false }) });
  // The consumer stopped early (an error elsewhere in the pipeline): stop the program too.
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return duplex;
}

/** zstd through Debian's program, where zlib has none. */
function zstdProgram(args: readonly string[]): Duplex {
  return programStream('zstd', args, {
    missing: () =>
      new BuildError('NOT_SUPPORTED', `not supported yet: zstd compression without the zstd program (Node ${process.versions.node} has no zstd in zlib)`, {
        hint: 'install it (apt-get install zstd) or use Node 22.15 or newer',
      }),
    failed: (status, stderr) => {
      const why = stderr.trim().split('\n').pop() ?? '';
      return new BuildError('IO', `zstd ${status}${why === '' ? '' : `: ${why}`}`);
    },
  });
}

/** The program's path on $PATH, looked up before spawning so that its absence is one clear error. */
function onPath(cmd: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, cmd);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
