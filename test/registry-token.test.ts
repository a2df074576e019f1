// A registry behind a token service (distribution's `auth: token`): the service runs in this
// process (support/token-server.ts) and signs JWTs with a certificate made by openssl that
// the registry trusts. tsbuild logs in, pulls, builds, pushes, reuses its tokens, mounts
// blobs across repositories with the right scopes, and never prints the password.
// The tools run asynchronously: the token service answers from this process's event loop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextWith as contextFor, makeBaseArchive, runAsync, tsbuildAsync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { startTokenServer, type TokenRequest, type TokenServer } from './support/token-server.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-registry-token-'));
const dockerConfig = join(work, 'docker-config');
const root = join(work, 'root');
const PASSWORD = 'T0ken-Pa55word';
let tokens: TokenServer;
let registry: TestRegistry;

async function tsbuild(args: string[], input?: string) {
  const r = await tsbuildAsync(args, { env: { DOCKER_CONFIG: dockerConfig }, ...(input === undefined ? {} : { input }) }).done;
  // Whatever happens, the password is never printed.
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  return r;
}

const contextWith = (dockerfile: string) => contextFor(work, dockerfile);

const skopeoInspect = (name: string) => runAsync('skopeo', ['inspect', '--tls-verify=false', '--creds', `alice:${PASSWORD}`, `docker://${name}`]);

/** The token requests made while `action` ran, by scope set: how often each was asked. */
async function tokenRequestsDuring(action: () => Promise<void>): Promise<{ asked: TokenRequest[]; perScopes: Map<string, number> }> {
  const mark = tokens.requests.length;
  await action();
  const asked = tokens.requests.slice(mark);
  const perScopes = new Map<string, number>();
  for (const r of asked) {
    const key = [...r.scopes].sort().join(' ');
    perScopes.set(key, (perScopes.get(key) ?? 0) + 1);
  }
  return { asked, perScopes };
}

/** The registry's answers to blob uploads into `repository` since request number `mark`. */
function uploadsInto(repository: string, mark: number) {
  const into = registry.requests().slice(mark).filter((r) => r.uri.startsWith(`/v2/${repository}/blobs/uploads/`));
  return {
    mounted: into.filter((r) => r.method === 'POST' && r.uri.includes('mount=') && r.status === 201).length,
    sent: into.filter((r) => r.method === 'PATCH' || r.method === 'PUT').length,
  };
}

describe.skipIf(!isRoot && !isCI)('a registry behind a token service', () => {
  beforeAll(async () => {
    tokens = await startTokenServer(work, { username: 'alice', password: PASSWORD });
    registry = await startRegistry(join(work, 'registry'), { token: tokens });
    const archive = await makeBaseArchive(work);
    // skopeo, not tsbuild, puts the base image there, through the same token service.
    const push = await runAsync('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORD}`, `oci-archive:${archive}`, `docker://${registry.host}/private/busybox:1`]);
    expect(push.status, push.stderr).toBe(0);
    const login = await tsbuild(['login', '-u', 'alice', '--password-stdin', registry.host], `${PASSWORD}\n`);
    expect(login.status, login.stderr).toBe(0);
    expect(login.stdout).toBe('Login Succeeded\n');
  });

  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls, builds on and pushes with tokens, asking once per scope set; skopeo reads the result', async () => {
    const mark = registry.requests().length;
    const { asked, perScopes } = await tokenRequestsDuring(async () => {
      const r = await tsbuild([
        'build', '--root', root, '--progress', 'plain', '--push', '-t', `${registry.host}/team/app:1`, '-t', `${registry.host}/team/app:2`,
        contextWith(`FROM ${registry.host}/private/busybox:1\nRUN echo through-tokens > /t.txt\n`),
      ]);
      expect(r.status, r.stderr).toBe(0);
    });
    expect(asked.every((r) => r.status === 200 && r.account === 'alice')).toBe(true);
    // The pull asks for its repository; both pushes share one token that may also pull from
    // the base's repository, where the base layer is mounted from.
    expect(perScopes).toEqual(
      new Map([
        ['repository:private/busybox:pull', 1],
        ['repository:private/busybox:pull repository:team/app:pull,push', 1],
      ]),
    );
    expect(uploadsInto('team/app', mark).mounted).toBe(1);
    for (const tag of ['1', '2']) {
      const inspect = await skopeoInspect(`${registry.host}/team/app:${tag}`);
      expect(inspect.status, inspect.stderr).toBe(0);
      expect((JSON.parse(inspect.stdout) as { Layers: string[] }).Layers).toHaveLength(2);
    }
  });

  it('pushing an image to a second repository mounts every blob from the first, uploading none', async () => {
    const built = await tsbuild(['build', '--root', root, '--progress', 'plain', '-t', 'local/twice:1', contextWith(`FROM ${registry.host}/private/busybox:1\nRUN echo twice > /twice.txt\n`)]);
    expect(built.status, built.stderr).toBe(0);
    const first = await tokenRequestsDuring(async () => {
      const r = await tsbuild(['push', '--root', root, 'local/twice:1', `${registry.host}/team/a:1`]);
      expect(r.status, r.stderr).toBe(0);
    });
    // Three blobs (two layers and the config), one token.
    expect(first.asked).toHaveLength(1);
    const mark = registry.requests().length;
    const second = await tokenRequestsDuring(async () => {
      const r = await tsbuild(['push', '--root', root, 'local/twice:1', `${registry.host}/team/b:1`]);
      expect(r.status, r.stderr).toBe(0);
    });
    expect([...second.perScopes.keys()]).toEqual(['repository:team/a:pull repository:team/b:pull,push']);
    expect(second.asked).toHaveLength(1);
    expect(uploadsInto('team/b', mark)).toEqual({ mounted: 3, sent: 0 });
    const a = await skopeoInspect(`${registry.host}/team/a:1`);
    const b = await skopeoInspect(`${registry.host}/team/b:1`);
    expect(b.status, b.stderr).toBe(0);
    expect((JSON.parse(b.stdout) as { Layers: string[] }).Layers).toEqual((JSON.parse(a.stdout) as { Layers: string[] }).Layers);
  });

  it('a wrong password is one clear error naming the registry, never the password', async () => {
    const config = join(dockerConfig, 'config.json');
    writeFileSync(config, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`alice:${PASSWORD}-wrong`).toString('base64') } } }));
    try {
      const { asked } = await tokenRequestsDuring(async () => {
        const push = await tsbuild(['push', '--root', root, 'local/twice:1', `${registry.host}/team/c:1`]);
        expect(push.status).toBe(1);
        expect(push.stderr).toContain(`${registry.host} refused the credentials`);
        expect(push.stderr).toContain(`tsbuild login ${registry.host}`);
        expect(push.stderr.match(/error:/g)).toHaveLength(1);
        expect(push.stderr).not.toMatch(/\n\s+at /);
        const pull = await tsbuild(['build', '--root', join(work, 'root-wrong'), '--progress', 'plain', contextWith(`FROM ${registry.host}/private/busybox:1\n`)]);
        expect(pull.status).toBe(1);
        expect(pull.stderr).toContain(`${registry.host} refused the credentials`);
      });
      // Refused once per command: a refusal is not retried.
      expect(asked.map((r) => r.status)).toEqual([401, 401]);
    } finally {
      const login = await tsbuild(['login', '-u', 'alice', '--password-stdin', registry.host], `${PASSWORD}\n`);
      expect(login.status, login.stderr).toBe(0);
    }
  });
});
