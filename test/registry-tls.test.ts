// A registry that speaks TLS with a certificate from a CA the test makes (openssl): refused
// without that CA, pulled from with --registry-ca HOST=FILE.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from './support/certs.js';
import { makeBaseArchive, run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-registry-tls-'));
let registry: TestRegistry;

function build(dockerfile: string, extra: string[] = []) {
  const dir = mkdtempSync(join(work, 'ctx-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return tsbuildSync(['build', '--root', join(work, 'root'), '--progress', 'plain', ...extra, dir]);
}

describe.skipIf(!isRoot && !isCI)('a registry behind TLS with its own CA', () => {
  let ca: string;
  let otherCa: string;

  beforeAll(async () => {
    const certs = makeCertificates(work, 'registry');
    ca = certs.ca;
    otherCa = makeCertificates(work, 'other').ca;
    registry = await startRegistry(join(work, 'registry'), { tls: { cert: certs.cert, key: certs.key } });
    const archive = await makeBaseArchive(work);
    const push = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${registry.host}/tls/busybox:1`]);
    expect(push.status, push.stderr).toBe(0);
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('verifies the certificate against the given CA', () => {
    const from = `FROM ${registry.host}/tls/busybox:1\nRUN echo over-tls\n`;
    const ok = build(from, ['--registry-ca', `${registry.host}=${ca}`]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^#\d+ [\d.]+ over-tls$/m);
    const wrongCa = build(from, ['--pull', '--registry-ca', `${registry.host}=${otherCa}`]);
    expect(wrongCa.status).toBe(1);
    expect(wrongCa.stderr).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+: .*(certificate|self-signed|verify)/i);
    expect(wrongCa.stderr).not.toMatch(/\n\s+at /);
  });
});
