import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
    expect(() => openSecrets([{ id: 'big', file: big }], {})).toThrow(expect.objectContaining({ code: 'IO', message: 'secret big too big. max size 500KiB' }));
  });
});

describe('secret sources', () => {
  const refused = (file: string, kind: string) =>
    expect(() => openSecrets([{ id: 's', file }], {})).toThrow(
      expect.objectContaining({ code: 'USAGE', message: `--secret id=s: ${file} is ${kind}; a secret source must be a regular file` }),
    );

  it('refuses a device, a FIFO, a socket or a directory up front, without opening it', async () => {
    refused('/dev/zero', 'a character device');
    refused(dir, 'a directory');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading would block until a writer came: the check must not open it.
    refused(fifo, 'a FIFO');
    const sock = join(dir, 'src.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      refused(sock, 'a socket');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    // Through a symlink, what it points to counts.
    const link = join(dir, 'to-zero');
    symlinkSync('/dev/zero', link);
    refused(link, 'a character device');
  });

  it('takes a symlink to a regular file', async () => {
    const file = join(dir, 'real');
    writeFileSync(file, 'through-a-link');
    const link = join(dir, 'link');
    symlinkSync(file, link);
    expect(await text(openSecrets([{ id: 'l', file: link }], {}).get('l')!())).toBe('through-a-link');
  });

  it('takes exactly 500 KiB and refuses a byte more, from a file or a variable', async () => {
    const exact = join(dir, 'exact');
    writeFileSync(exact, Buffer.alloc(MAX_SECRET_SIZE, 'e'));
    expect((await openSecrets([{ id: 'e', file: exact }], {}).get('e')!()).length).toBe(512000);
    expect((await openSecrets([{ id: 'v', env: 'V' }], { V: 'x'.repeat(MAX_SECRET_SIZE) }).get('v')!()).length).toBe(512000);
    const tooBig = expect.objectContaining({ code: 'IO', message: 'secret v too big. max size 500KiB' });
    expect(() => openSecrets([{ id: 'v', env: 'V' }], { V: 'x'.repeat(MAX_SECRET_SIZE + 1) })).toThrow(tooBig);
    // Bytes, not characters: 256000 two-byte characters are 512000 bytes; one more is over.
    expect(() => openSecrets([{ id: 'v', env: 'V' }], { V: 'é'.repeat(256001) })).toThrow(tooBig);
    expect(() => openSecrets([{ id: 'v' }], { v: 'x'.repeat(MAX_SECRET_SIZE + 1) })).toThrow(expect.objectContaining({ message: 'secret v too big. max size 500KiB' }));
  });

  it('reads at most the limit when the source changed after the build started', async () => {
    const file = join(dir, 'grows');
    writeFileSync(file, 'small');
    const env: NodeJS.ProcessEnv = { G: 'small' };
    const s = openSecrets([{ id: 'g', file }, { id: 'h', env: 'G' }], env);
    writeFileSync(file, Buffer.alloc(MAX_SECRET_SIZE + 1, 'g'));
    await expect(s.get('g')!()).rejects.toThrow(expect.objectContaining({ code: 'IO', message: 'secret g too big. max size 500KiB' }));
    env.G = 'y'.repeat(MAX_SECRET_SIZE + 1);
    await expect(s.get('h')!()).rejects.toThrow(expect.objectContaining({ message: 'secret h too big. max size 500KiB' }));
    // Replaced by a FIFO with no writer: refused at once instead of waiting for one.
    rmSync(file);
    execFileSync('mkfifo', [file]);
    await expect(s.get('g')!()).rejects.toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('is a FIFO') }));
    // And by a device: refused without reading it.
    rmSync(file);
    symlinkSync('/dev/zero', file);
    await expect(s.get('g')!()).rejects.toThrow(expect.objectContaining({ message: expect.stringContaining('is a character device') }));
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
