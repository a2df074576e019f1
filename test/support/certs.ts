/** Certificates made with openssl for tests: CAs, server certificates, token signers. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './cli.js';

export function openssl(args: string[]): void {
  const r = run('openssl', args);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** A self-signed certificate and its key: `<dir>/<name>.pem` and `<dir>/<name>.key`. */
export function selfSigned(dir: string, name: string, subject: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', subject, '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** A CA, and a server certificate it signs for 127.0.0.1. */
export function makeCertificates(dir: string, name: string) {
  const { cert: ca, key: caKey } = selfSigned(dir, `${name}-ca`, `/CN=${name} test CA`);
  const key = join(dir, `${name}-server.key`);
  const csr = join(dir, `${name}-server.csr`);
  const cert = join(dir, `${name}-server.pem`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', csr]);
  const ext = join(dir, `${name}-ext.cnf`);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert]);
  return { ca, cert, key };
}
