// Reading and writing docker's config.json, and credential helpers (a real helper program
// the test writes, speaking the docker-credential protocol).
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialsFor, removeCredentials, saveCredentials } from './credentials.js';

function env(config?: object): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-docker-config-'));
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { ...process.env, DOCKER_CONFIG: dir };
}

describe('registry credentials', () => {
  it('reads auths by host, and Docker Hub under its legacy key', async () => {
    const e = env({
      auths: {
        'reg.example:5000': { auth: Buffer.from('bob:pw:with:colons').toString('base64') },
        'https://index.docker.io/v1/': { identitytoken: 'refresh-me' },
      },
    });
    expect(await credentialsFor('reg.example:5000', e)).toEqual({ username: 'bob', password: 'pw:with:colons' });
    expect(await credentialsFor('docker.io', e)).toEqual({ identityToken: 'refresh-me' });
    expect(await credentialsFor('other.example', e)).toBeUndefined();
    expect(await credentialsFor('x.example', env())).toBeUndefined();
  });

  it('asks a credential helper named by credHelpers', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'tsbuild-helper-'));
    const helper = join(bin, 'docker-credential-testhelper');
    writeFileSync(helper, '#!/bin/sh\nread server\n[ "$1" = get ] && printf \'{"ServerURL":"%s","Username":"carol","Secret":"from-helper"}\' "$server"\n');
    chmodSync(helper, 0o755);
    const e = { ...env({ credHelpers: { 'helped.example': 'testhelper' } }), PATH: `${bin}:${process.env.PATH ?? ''}` };
    expect(await credentialsFor('helped.example', e)).toEqual({ username: 'carol', password: 'from-helper' });
  });

  it('saves and removes logins in the same format, keeping other settings', async () => {
    const e = env({ auths: { 'keep.example': { auth: 'a2VlcDprZWVw' } }, detachKeys: 'ctrl-p' });
    await saveCredentials('new.example', 'dave', 'pw', e);
    const file = join(e.DOCKER_CONFIG!, 'config.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { auths: Record<string, { auth: string }> };
    expect(saved.detachKeys).toBe('ctrl-p');
    expect(saved.auths['keep.example']).toBeDefined();
    expect(Buffer.from(saved.auths['new.example']!.auth, 'base64').toString()).toBe('dave:pw');
    expect(await removeCredentials('new.example', e)).toBe(true);
    expect(await removeCredentials('new.example', e)).toBe(false);
  });
});
