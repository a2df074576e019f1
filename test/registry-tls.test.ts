// A registry that speaks TLS with a certificate from a CA the test makes (openssl): refused
// without that CA, pulled from with --registry-ca HOST=FILE or with NODE_EXTRA_CA_CERTS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from './support/certs.js';
import { TSBUILD, makeBaseArchive, run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { repoRoot } from './shared.js';
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
    // A certificate that is not trusted is said so, with what to do.
    expect(wrongCa.stderr).toContain(`hint: its TLS certificate is not trusted: give the CA that signed it with --registry-ca ${registry.host}=FILE`);
    expect(wrongCa.stderr).not.toMatch(/\n\s+at /);
  });

  it('trusts NODE_EXTRA_CA_CERTS, which the launcher reads only once a TLS connection needs it; child processes see it unchanged', () => {
    // A credential helper is a child process of the build: it notes the environment it gets
    // (and has no credentials).
    const bin = mkdtempSync(join(work, 'bin-'));
    const seen = join(work, 'helper-env');
    writeFileSync(
      join(bin, 'docker-credential-envnote'),
      `#!/bin/sh\ncat >/dev/null\nprintf '%s|%s\\n' "$NODE_EXTRA_CA_CERTS" "\${TSBUILD_EXTRA_CA_CERTS-unset}" >> '${seen}'\necho 'credentials not found in native keychain'\nexit 1\n`,
      { mode: 0o755 },
    );
    const config = mkdtempSync(join(work, 'docker-config-'));
    writeFileSync(join(config, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'envnote' } }));
    const env = (extraCa: string) => ({ ...process.env, NODE_EXTRA_CA_CERTS: extraCa, DOCKER_CONFIG: config, PATH: `${bin}:${process.env.PATH}` });
    const dir = mkdtempSync(join(work, 'ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${registry.host}/tls/busybox:1\nRUN echo extra-ca\n`);
    // The registry is on loopback, which tsbuild speaks plain HTTP to unless it is given a CA
    // for it: given another CA, it speaks TLS, and trusts that CA besides Node's roots and
    // NODE_EXTRA_CA_CERTS, as Node's default would.
    const args = (root: string) => ['build', '--root', join(work, root), '--progress', 'plain', '--registry-ca', `${registry.host}=${otherCa}`, dir];
    // Every way the CLI starts: as a program (bin/tsbuild.js hands the variable over in its
    // shell line), through node (the CLI does so as it enters its mount namespace), and its
    // entry module run by node without the launcher (as the action's script is).
    const asProgram = (extraCa: string, root: string) => spawnSync(TSBUILD, args(root), { encoding: 'utf8', env: env(extraCa) });
    const throughNode = (extraCa: string, root: string) => spawnSync(process.execPath, [TSBUILD, ...args(root)], { encoding: 'utf8', env: env(extraCa) });
    const entryModule = join(repoRoot, 'dist', 'cli', 'main.js');
    const throughEntry = (extraCa: string, root: string) => spawnSync(process.execPath, [entryModule, ...args(root)], { encoding: 'utf8', env: env(extraCa) });
    // And where nothing hands it over (already in a mount namespace): Node loads it itself, and
    // a connection given its own CAs (--registry-ca) must still list it.
    const nodeLoads = (extraCa: string, root: string) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', '--', process.execPath, entryModule, ...args(root)], {
        encoding: 'utf8',
        env: { ...env(extraCa), TSBUILD_MOUNT_NAMESPACE: '1' },
      });
    for (const [name, start] of [['program', asProgram], ['node', throughNode], ['entry', throughEntry], ['node-loads', nodeLoads]] as const) {
      rmSync(seen, { force: true });
      const ok = start(ca, `root-extra-${name}`);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/^#\d+ [\d.]+ extra-ca$/m);
      expect(readFileSync(seen, 'utf8').trim().split('\n')).toEqual([`${ca}|unset`]);
      // Another CA's certificates do not make this registry's trusted.
      const refused = start(otherCa, `root-other-${name}`);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+: .*(certificate|self-signed|verify)/i);
    }
    // A file that cannot be read: Node's own warning, and the build goes on without it.
    const missing = join(work, 'no-such-ca.pem');
    const warned = asProgram(missing, 'root-missing');
    expect(warned.stderr).toContain(`Warning: Ignoring extra certs from \`${missing}\`, load failed`);
    expect(warned.stderr).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+: .*(certificate|self-signed|verify)/i);
  });
});
