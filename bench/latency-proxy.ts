/**
 * An HTTP proxy on loopback that holds each request for a fixed time before passing it on, as
 * a distant service would answer later: the benchmarks put it in front of a local server to
 * see what round trips cost. It records each request (method, bytes sent, start and end).
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  /** Request body bytes (its content-length). */
  readonly bytes: number;
  readonly start: number;
  end?: number;
}

export interface LatencyProxy {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly requests: readonly ProxiedRequest[];
  close(): Promise<void>;
}

export async function startLatencyProxy(upstream: string, latencyMs: number): Promise<LatencyProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', bytes: Number(req.headers['content-length'] ?? 0), start: Date.now() };
    requests.push(seen);
    req.pause();
    setTimeout(() => {
      const out = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.once('end', () => (seen.end = Date.now()));
        },
      );
      out.once('error', () => res.destroy());
      req.pipe(out);
      req.resume();
    }, latencyMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
