/**
 * azurite (an Azure Blob Storage emulator from npm) on a free loopback port, in its own
 * temporary data directory, for the GitHub Actions cache service of gha-cache.ts: the blobs
 * of cache entries live here and are reached through signed (SAS) URLs, as on a real runner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** azurite's well-known development account (its documentation publishes name and key). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** `http://127.0.0.1:PORT/devstoreaccount1`: the account's blob endpoint (path style). */
  readonly blobEndpoint: string;
  readonly accountName: string;
  readonly accountKey: string;
  /** Stops the emulator and removes its data directory. */
  stop(): Promise<void>;
}

/** The `azurite-blob` script of the installed package (its `bin` entry). */
function azuriteBlobScript(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('azurite/package.json');
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin['azurite-blob'];
  if (bin === undefined) throw new Error('the azurite package has no azurite-blob script');
  return join(dirname(manifest), bin);
}

export async function startAzurite(): Promise<Azurite> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-azurite-'));
  // Its console output names the port it bound (port 0: the kernel picks a free one, no race).
  // A file, not a pipe: nothing would drain a pipe while a test blocks.
  const logFile = join(dir, 'console.log');
  const out = openSync(logFile, 'w');
  const args = [
    azuriteBlobScript(),
    '--blobHost', '127.0.0.1',
    '--blobPort', '0',
    '--location', join(dir, 'data'),
    // The Azure SDK may speak a newer service version than this azurite knows.
    '--skipApiVersionCheck',
    // azurite reports usage to a remote service unless told not to; tests reach loopback only.
    '--disableTelemetry',
    '--silent',
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));

  const stop = () =>
    new Promise<void>((resolve) => {
      const clean = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return clean();
      child.once('exit', clean);
      child.kill('SIGTERM');
    });

  for (let i = 0; i < 200; i++) {
    const log = readFileSync(logFile, 'utf8');
    const m = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
    if (m !== null) {
      return { blobEndpoint: `http://127.0.0.1:${m[1]}/${ACCOUNT}`, accountName: ACCOUNT, accountKey: ACCOUNT_KEY, stop };
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = readFileSync(logFile, 'utf8');
  await stop();
  throw new Error(`azurite did not start:\n${log}`);
}
