// Registry credentials: a registry with htpasswd Basic auth (a real docker-registry), docker's
// config.json written by `tsbuild login`, pulls with the saved credentials, and no password
// in any output.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextWith as contextFor, makeBaseArchive, run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-registry-auth-'));
const dockerConfig = join(work, 'docker-config');
const PASSWORD = 's3cret-Pa55';
let registry: TestRegistry;

function tsbuild(args: string[], input?: string) {
  const r = tsbuildSync(args, { env: { DOCKER_CONFIG: dockerConfig }, ...(input === undefined ? {} : { input }) });
  // Whatever happens, the password is never printed.
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  return r;
}

const contextWith = (dockerfile: string) => contextFor(work, dockerfile);

function build(dockerfile: string) {
  return tsbuild(['build', '--root', join(work, 'root'), '--progress', 'plain', contextWith(dockerfile)]);
}

describe.skipIf(!isRoot && !isCI)('registry credentials', () => {
  beforeAll(async () => {
    const hash = run('htpasswd', ['-Bbn', 'alice', PASSWORD]);
    expect(hash.status, hash.stderr).toBe(0);
    registry = await startRegistry(join(work, 'registry'), { htpasswd: hash.stdout });
    const archive = await makeBaseArchive(work);
    const push = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORD}`, `oci-archive:${archive}`, `docker://${registry.host}/private/busybox:1`]);
    expect(push.status, push.stderr).toBe(0);
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('asks for a login, refuses wrong credentials, saves and uses good ones, and forgets them', () => {
    const from = `FROM ${registry.host}/private/busybox:1\nRUN echo authenticated\n`;
    const anonymous = build(from);
    expect(anonymous.status).toBe(1);
    expect(anonymous.stderr).toContain(`${registry.host} requires authentication`);
    expect(anonymous.stderr).toContain(`tsbuild login ${registry.host}`);

    const wrong = tsbuild(['login', '-u', 'alice', '--password-stdin', registry.host], 'not-the-password\n');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`${registry.host} refused the credentials`);
    expect(existsSync(join(dockerConfig, 'config.json'))).toBe(false);

    const login = tsbuild(['login', '-u', 'alice', '--password-stdin', registry.host], `${PASSWORD}\n`);
    expect(login.status, login.stderr).toBe(0);
    expect(login.stdout).toBe('Login Succeeded\n');
    const saved = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[registry.host]!.auth, 'base64').toString()).toBe(`alice:${PASSWORD}`);

    const pulled = build(from);
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(pulled.stderr).toMatch(/^#\d+ [\d.]+ authenticated$/m);

    // Wrong saved credentials: the pull names the registry, never the password.
    writeFileSync(
      join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`alice:${PASSWORD}-stale`).toString('base64') } } }),
    );
    const stale = tsbuild(['build', '--root', join(work, 'root-stale'), '--progress', 'plain', contextWith(from)]);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`${registry.host} refused the credentials`);
    expect(stale.stderr).not.toContain('-stale');
    tsbuild(['login', '-u', 'alice', '--password-stdin', registry.host], `${PASSWORD}\n`);

    const logout = tsbuild(['logout', registry.host]);
    expect(logout.stdout).toBe(`Removing login credentials for ${registry.host}\n`);
    const after = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    expect(after.auths[registry.host]).toBeUndefined();
  });
});
