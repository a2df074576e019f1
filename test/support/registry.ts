/** A real Docker distribution registry (Debian's docker-registry) on a free loopback port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** One request as the registry's access log shows it. */
export interface LoggedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly uri: string;
  readonly status: number;
}

/** A token service the registry trusts (see token-server.ts). */
export interface TokenAuth {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundle: string;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** The requests served since the registry started, from its access log. */
  requests(): LoggedRequest[];
  stop(): Promise<void>;
  /** SIGKILL: the registry goes away mid-request. */
  kill(): Promise<void>;
}

/** What `registry` served while `f` ran, and what `f` returned. */
export function served<T>(registry: TestRegistry, f: () => T): { r: T; requests: LoggedRequest[] } {
  const before = registry.requests().length;
  const r = f();
  return { r, requests: registry.requests().slice(before) };
}

/** The digests of the blobs served whole among `requests` (GETs that did not fail), of `digests` only when given. */
export function blobGets(requests: readonly LoggedRequest[], digests?: readonly string[]): string[] {
  return requests
    .filter((q) => q.method === 'GET' && q.uri.includes('/blobs/sha256:') && q.status < 400)
    .map((q) => q.uri.slice(q.uri.lastIndexOf('/') + 1))
    .filter((d) => digests === undefined || digests.includes(d));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `htpasswd`: a bcrypt htpasswd file's contents, the registry then requires Basic auth;
 * `token`: it requires bearer tokens of that token service instead. `foreignUrls`: regular
 * expressions of the layer URLs manifests may name — distribution 2.7 and later refuse every
 * URL unless allowed (`validation.manifests.urls.allow`).
 */
export async function startRegistry(
  dir: string,
  opts: { htpasswd?: string; token?: TokenAuth; tls?: { cert: string; key: string }; port?: number; foreignUrls?: readonly string[] } = {},
): Promise<TestRegistry> {
  const port = opts.port ?? (await freePort());
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'config.yml');
  let auth = '';
  if (opts.htpasswd !== undefined) {
    writeFileSync(join(dir, 'htpasswd'), opts.htpasswd);
    auth = `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.token !== undefined) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  const tls = opts.tls === undefined ? '' : `  tls:\n    certificate: ${opts.tls.cert}\n    key: ${opts.tls.key}\n`;
  const validation = opts.foreignUrls === undefined
    ? ''
    : `validation:\n  manifests:\n    urls:\n      allow:\n${opts.foreignUrls.map((re) => `        - ${JSON.stringify(re)}\n`).join('')}`;
  writeFileSync(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\n${auth}${validation}http:\n  addr: 127.0.0.1:${port}\n${tls}log:\n  level: error\n`,
  );
  // The access log (stdout) says what each request was and how it was answered. It goes to a
  // file, never a pipe: a test blocked in spawnSync cannot drain a pipe, and the registry
  // would stall on a full one.
  const logFile = join(dir, `access-${Date.now()}.log`);
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', out, 'ignore'] });
  closeSync(out);
  const requests = () =>
    [...readFileSync(logFile, 'utf8').matchAll(/"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /g)].map((m) => ({ method: m[1]!, uri: m[2]!, status: Number(m[3]) }));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new Error(`docker-registry is not installed (bash scripts/install-deps.sh installs it): ${e.message}`))),
  );
  const host = `127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (await listening(port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('docker-registry did not start');
  })();
  await Promise.race([ready, failed]);
  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return { host, requests, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
