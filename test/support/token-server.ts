/**
 * A token service of the distribution token spec, run in the test's own process (node:http on
 * a free loopback port), for a registry configured with `auth: token`. It checks Basic
 * credentials, grants what the `scope` parameters ask (`repository:NAME:ACTIONS`, repeated or
 * space-separated) and answers `{token, access_token, expires_in, issued_at}`: a JWT signed
 * RS256 by a key whose self-signed certificate (made with openssl) travels in the header's
 * `x5c` and is the registry's `rootcertbundle`. The claims are those distribution 2.8 checks:
 * iss, aud (the service), exp and nbf, plus sub, iat, jti and access. Anonymous requests get a
 * token that grants nothing, as public token services do. Every request is counted.
 */
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { selfSigned } from './certs.js';

export interface TokenRequest {
  /** The scopes asked, as sent. */
  readonly scopes: readonly string[];
  /** The account that asked, when its credentials were right. */
  readonly account?: string;
  /** 200 with a token, or 401. */
  readonly status: number;
}

export interface TokenServer {
  /** `http://127.0.0.1:PORT/token` */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** The PEM file of the signing certificate: the registry's `rootcertbundle`. */
  readonly rootCertBundle: string;
  /** Every request served, in order. */
  readonly requests: readonly TokenRequest[];
  close(): Promise<void>;
}

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** `type:name:actions` (a name may hold colons, as `host:port/repo` could) → an access entry. */
function accessOf(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter((a) => a !== '') };
}

export async function startTokenServer(
  dir: string,
  opts: { readonly username: string; readonly password: string; readonly expiresIn?: number },
): Promise<TokenServer> {
  const signer = selfSigned(dir, 'token-signer', '/CN=tsbuild test token issuer');
  const key = createPrivateKey(readFileSync(signer.key));
  const x5c = [new X509Certificate(readFileSync(signer.cert)).raw.toString('base64')];
  const service = 'tsbuild-test-registry';
  const issuer = 'tsbuild-test-issuer';
  const expiresIn = opts.expiresIn ?? 300;
  const requests: TokenRequest[] = [];

  const issue = (account: string, scopes: readonly string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c };
    const access = account === '' ? [] : scopes.map(accessOf).filter((a) => a !== undefined);
    const claims = { iss: issuer, sub: account, aud: service, exp: now + expiresIn, nbf: now - 1, iat: now, jti: randomBytes(12).toString('hex'), access };
    const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const token = `${signed}.${base64url(sign('sha256', Buffer.from(signed), key))}`;
    return { token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() };
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.test');
    if (req.method !== 'GET' || url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const auth = req.headers.authorization;
    let account = '';
    if (auth !== undefined) {
      const [scheme, value] = auth.split(' ');
      const decoded = scheme?.toLowerCase() === 'basic' ? Buffer.from(value ?? '', 'base64').toString('utf8') : '';
      if (decoded !== `${opts.username}:${opts.password}`) {
        requests.push({ scopes, status: 401 });
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="tsbuild test tokens"' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong username or password' }] }));
        return;
      }
      account = opts.username;
    }
    requests.push({ scopes, status: 200, ...(account === '' ? {} : { account }) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(issue(account, scopes)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: signer.cert,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
