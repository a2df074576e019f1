import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SECRET_SIZE, openSecrets, openSsh, parseSecretSpec, parseSshSpec } from './secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-secret-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = async (p: Promise<Uint8Array>) => Buffer.from(await p).toString('utf8');

describe('--secret', () => {
  it('reads id, src/source, env and type as buildx does', () => {
    expect(parseSecretSpec('id=a,src=/f')).toEqual({ id: 'a', file: '/f' });
    expect(parseSecretSpec('id=a,source=/f')).toEqual({ id: 'a', file: '/f' });
    expect(parseSecretSpec('ID=a,Env=TOKEN')).toEqual({ id: 'a', env: 'TOKEN' });
    expect(parseSecretSpec('id=a')).toEqual({ id: 'a' });
    // type=env takes the variable's name from src when env= is not given.
    expect(parseSecretSpec('type=env,id=a,src=TOKEN')).toEqual({ id: 'a', env: 'TOKEN' });
    expect(parseSecretSpec('type=file,id=a,src=/f')).toEqual({ id: 'a', file: '/f' });
    expect(parseSecretSpec('"id=a,b",src=/f')).toEqual({ id: 'a,b', file: '/f' });
  });

  it('refuses what buildx refuses, as usage errors', () => {
    const usage = (v: string, message: RegExp) => expect(() => parseSecretSpec(v)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(message) }));
    usage('id=a,required', /invalid field 'required' must be a key=value pair/);
    usage('id=a,type=ssh', /unsupported secret type "ssh"/);
    usage('id=a,target=/x', /unexpected key 'target'/);
    usage('src=/f', /secret missing ID/);
    usage('id="a', /failed to parse csv secret/);
  });

  it('without src or env, reads the variable named by the id when it is set, else the file named by it', async () => {
    const file = join(dir, 'plainid');
    writeFileSync(file, 'from-file');
    const fromEnv = openSecrets([{ id: 'SOME_TOKEN' }], { SOME_TOKEN: 'from-env' });
    expect(await text(fromEnv.get('SOME_TOKEN')!())).toBe('from-env');
    const fromFile = openSecrets([{ id: file }], {});
    expect(await text(fromFile.get(file)!())).toBe('from-file');
  });

  it('reads files and variables when a step asks, and the last spec of an id wins', async () => {
    const file = join(dir, 'later');
    writeFileSync(file, 'one');
    const env: NodeJS.ProcessEnv = { V: 'first' };
    const s = openSecrets([{ id: 'x', env: 'V' }, { id: 'y', file }, { id: 'z', env: 'V' }, { id: 'z', file }], env);
    env.V = 'second';
    writeFileSync(file, 'two');
    expect(await text(s.get('x')!())).toBe('second');
    expect(await text(s.get('y')!())).toBe('two');
    expect(await text(s.get('z')!())).toBe('two');
    expect(s.get('missing')).toBeUndefined();
  });

  it('fails on a missing or too big file, naming the id and the file, never a value', () => {
    expect(() => openSecrets([{ id: 'k', file: join(dir, 'nope') }], {})).toThrow(expect.objectContaining({ code: 'IO', message: `secret k: cannot read ${join(dir, 'nope')}: no such file` }));
    const big = join(dir, 'big');
    writeFileSync(big, Buffer.alloc(MAX_SECRET_SIZE + 1, 'q'));
    expect(() => openSecrets([{ id: 'big', file: big }], {})).toThrow(/secret big too big/);
  });
});

describe('--ssh', () => {
  it('reads default|ID[=PATH,...] as buildx does', () => {
    expect(parseSshSpec('default')).toEqual({ id: 'default', paths: [] });
    expect(parseSshSpec('gh=/run/agent.sock')).toEqual({ id: 'gh', paths: ['/run/agent.sock'] });
    expect(parseSshSpec('gh=/a,/b')).toEqual({ id: 'gh', paths: ['/a', '/b'] });
    expect(parseSshSpec('gh=')).toEqual({ id: 'gh', paths: [] });
    expect(parseSshSpec('')).toEqual({ id: 'default', paths: [] });
  });

  it('takes $SSH_AUTH_SOCK when no path is given, and checks that a path is an agent socket', async () => {
    const sock = join(dir, 'agent.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      expect(openSsh([parseSshSpec('default')], { SSH_AUTH_SOCK: sock }).get('default')).toBe(sock);
      expect(openSsh([parseSshSpec(`other=${sock}`)], {}).get('other')).toBe(sock);
      expect(() => openSsh([parseSshSpec('default')], {})).toThrow(expect.objectContaining({ code: 'SSH_NOT_FOUND', message: expect.stringContaining('SSH_AUTH_SOCK is not set') }));
      expect(() => openSsh([parseSshSpec('a'), parseSshSpec('a')], { SSH_AUTH_SOCK: sock })).toThrow(/duplicate agent ID "a"/);
      const key = join(dir, 'id_ed25519');
      writeFileSync(key, 'not a socket');
      expect(() => openSsh([parseSshSpec(`k=${key}`)], {})).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', message: expect.stringContaining('not supported yet: --ssh with key files') }));
      expect(() => openSsh([parseSshSpec(`k=${join(dir, 'none')}`)], {})).toThrow(expect.objectContaining({ code: 'IO' }));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
