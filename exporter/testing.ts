/**
 * Test fixtures: a tiny busybox image built from Debian's static busybox, and a helper that
 * runs tools nobody here wrote (skopeo, umoci, runc) and fails loudly when they are missing.
 * Only for tests; nothing in the library imports this file.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { ContentStore } from '../content/index.js';
import { compressLayer } from './layers.js';
import type { Compression } from '../oci/index.js';
import { assembleImage } from './image.js';
import type { ImageBlobs } from '../images/index.js';

export const BUSYBOX = '/usr/bin/busybox';
export const APPLETS = ['echo', 'sh', 'ls', 'cat', 'true'] as const;
const MTIME = new Date('2024-01-01T00:00:00Z');

export type FixtureEntry =
  | { readonly name: string; readonly type: 'directory'; readonly mode?: number }
  | { readonly name: string; readonly type: 'file'; readonly content: string | Buffer; readonly mode?: number }
  | { readonly name: string; readonly type: 'file-from'; readonly path: string; readonly mode?: number }
  | { readonly name: string; readonly type: 'symlink' | 'link'; readonly linkname: string };

/** A layer tar from a list of entries, streamed (host files are not read into memory). */
export function layerTar(entries: readonly FixtureEntry[]): Readable {
  const pack = tar.pack();
  (async () => {
    for (const e of entries) {
      switch (e.type) {
        case 'directory':
          await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: 'directory', mode: e.mode ?? 0o755, mtime: MTIME }, (err) => (err ? rej(err) : res())));
          break;
        case 'file': {
          const bytes = Buffer.from(e.content);
          await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: 'file', mode: e.mode ?? 0o644, mtime: MTIME, size: bytes.length }, bytes, (err) => (err ? rej(err) : res())));
          break;
        }
        case 'file-from': {
          const { size } = await stat(e.path);
          await pipeline(createReadStream(e.path), pack.entry({ name: e.name, type: 'file', mode: e.mode ?? 0o755, mtime: MTIME, size }));
          break;
        }
        case 'symlink':
        case 'link':
          await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o777, mtime: MTIME }, (err) => (err ? rej(err) : res())));
          break;
      }
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return Readable.from(pack);
}

export const busyboxEntries: readonly FixtureEntry[] = [
  { name: 'bin/', type: 'directory' },
  { name: 'bin/busybox', type: 'file-from', path: BUSYBOX },
  ...APPLETS.map((a): FixtureEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
];

/** The busybox image in `store`: one layer, Cmd ["/bin/echo","hello"]. */
export async function buildBusyboxImage(store: ContentStore, options: { compression?: Compression; ociMediaTypes?: boolean } = {}): Promise<ImageBlobs & { diffId: string }> {
  const layer = await compressLayer(() => layerTar(busyboxEntries), options.compression ?? 'gzip', { store });
  const image = await assembleImage(store, {
    config: { Cmd: ['/bin/echo', 'hello'], Env: ['PATH=/bin'] },
    platform: { os: 'linux', architecture: 'amd64' },
    layers: [{ diffId: layer.diffId, blob: layer.blob }],
    history: [{ created: MTIME, created_by: 'COPY busybox /bin/', comment: 'test' }, { created: MTIME, created_by: 'CMD ["/bin/echo","hello"]', empty_layer: true }],
    created: MTIME,
    ...(options.ociMediaTypes === undefined ? {} : { ociMediaTypes: options.ociMediaTypes }),
  });
  return { ...image, diffId: layer.diffId };
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a host tool; a missing tool is an error, never a skipped test. */
export function runTool(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`${command} could not be run (is it installed?): ${e.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Like runTool, but a non-zero exit throws with the tool's stderr. */
export async function mustRun(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  const r = await runTool(command, args, options);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
