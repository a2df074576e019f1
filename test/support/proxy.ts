/**
 * A plain HTTP proxy in front of a real registry, in the test's process, that can make one
 * request fail the ways networks fail: answered 503 without reaching the registry, or cut
 * (the connection dropped after half of the body went through). The registry stays the real
 * one: Host is passed on unchanged, so the upload URLs it hands out point at the proxy.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'pass' | 'unavailable' | 'cut';

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly fault: Fault;
  /** The status the client got (none when cut). */
  status?: number;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** What each request met, in order. */
  readonly seen: readonly Seen[];
  close(): Promise<void>;
}

/** What a test does at two moments of a request's way through the proxy. */
export interface ProxyHooks {
  /**
   * Awaited before a passed request goes on to the registry (its body waits in the socket):
   * a test holds requests here, e.g. until another builder's request arrives too.
   */
  readonly beforePass?: (req: IncomingMessage) => Promise<void>;
  /**
   * Awaited once half of a cut request's body has reached the registry, before the
   * connections are dropped: e.g. the registry is killed mid-upload.
   */
  readonly beforeCut?: (req: IncomingMessage) => Promise<void>;
}

/** `fault` picks what each request meets, given it and how many requests came before it. */
export async function startFaultProxy(upstream: string, fault: (req: IncomingMessage, index: number) => Fault, hooks: ProxyHooks = {}): Promise<FaultProxy> {
  const seen: Seen[] = [];
  const [upHost, upPort] = upstream.split(':');
  const server = createServer((req, res) => void handle(req, res));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const f = fault(req, seen.length);
    const entry: Seen = { method: req.method ?? '', url: req.url ?? '', fault: f };
    seen.push(entry);
    if (f === 'unavailable') {
      // Read the body first, so that the client sees the answer rather than a reset.
      req.resume();
      req.once('end', () => {
        entry.status = 503;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('injected by the test proxy\n');
      });
      return;
    }
    if (f === 'pass' && hooks.beforePass !== undefined) await hooks.beforePass(req);
    const up = request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      entry.status = answer.statusCode ?? 502;
      res.writeHead(entry.status, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    if (f === 'pass') {
      req.pipe(up);
      return;
    }
    // Cut: pass on half of the announced body, then drop both connections.
    const half = Math.floor(Number(req.headers['content-length'] ?? 0) / 2);
    let passed = 0;
    req.on('data', (chunk: Buffer) => {
      if (passed >= half) return;
      const part = chunk.subarray(0, half - passed);
      passed += part.length;
      const done = passed >= half;
      up.write(part, () => {
        if (!done) return;
        // After the half reached the socket: the registry gets it, then the end.
        void (hooks.beforeCut?.(req) ?? Promise.resolve()).finally(() => {
          up.destroy();
          req.socket.destroy();
        });
      });
    });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
