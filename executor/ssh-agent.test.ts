// The agent proxy against a real OpenSSH agent, with ssh-add as the client.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentFramer, agentRequestAllowed, serveAgentProxy, type AgentProxy } from './ssh-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-agent-'));
const agentSock = join(dir, 'agent.sock');
let agent: ChildProcess;

/** Runs an OpenSSH tool against `sock`, asynchronously: the proxy lives in this process. */
function ssh(cmd: string, args: string[], sock: string, input?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: '', DISPLAY: '' } }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code === 'string') {
        reject(new Error(`${cmd} is not installed (bash scripts/install-deps.sh installs openssh-client): ${error.message}`));
        return;
      }
      resolve({ status: error === null ? 0 : (error.code as number | undefined) ?? 1, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

beforeAll(async () => {
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    agent.once('error', (e) => reject(new Error(`ssh-agent is not installed (bash scripts/install-deps.sh installs openssh-client): ${e.message}`)));
    const poll = () => (existsSync(agentSock) ? resolve() : setTimeout(poll, 20));
    poll();
  });
  const key = join(dir, 'key');
  expect((await ssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'proxy-test', '-f', key], agentSock)).status).toBe(0);
  expect((await ssh('ssh-add', [key], agentSock)).status).toBe(0);
});

afterAll(() => {
  agent?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('the SSH agent proxy', () => {
  let proxy: AgentProxy;
  beforeAll(async () => {
    proxy = await serveAgentProxy(agentSock, join(dir, 'proxy.sock'), { uid: process.getuid!(), gid: process.getgid!(), mode: 0o600 });
  });
  afterAll(() => proxy.close());

  it('lists the agent\'s keys and signs with them', async () => {
    const direct = await ssh('ssh-add', ['-l'], agentSock);
    const proxied = await ssh('ssh-add', ['-l'], proxy.path);
    expect(proxied.status).toBe(0);
    expect(proxied.stdout).toContain('proxy-test (ED25519)');
    expect(proxied.stdout).toBe(direct.stdout);
    // ssh-add -T signs a challenge with the key and verifies the signature.
    const signed = await ssh('ssh-add', ['-T', join(dir, 'key.pub')], proxy.path);
    expect(signed.status, signed.stderr).toBe(0);
  });

  it('refuses to change the agent: its keys stay', async () => {
    expect((await ssh('ssh-add', ['-D'], proxy.path)).status).not.toBe(0);
    expect((await ssh('ssh-add', [join(dir, 'key')], proxy.path)).status).not.toBe(0);
    expect((await ssh('ssh-add', ['-d', join(dir, 'key.pub')], proxy.path)).status).not.toBe(0);
    expect((await ssh('ssh-add', ['-l'], agentSock)).stdout).toContain('proxy-test (ED25519)');
  });

  it('gives the socket the owner and mode asked for', async () => {
    const other = await serveAgentProxy(agentSock, join(dir, 'other.sock'), { uid: 1000, gid: 2000, mode: 0o660 });
    try {
      const st = statSync(other.path);
      expect(st.isSocket()).toBe(true);
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual(process.getuid!() === 0 ? [1000, 2000, 0o660] : [st.uid, st.gid, 0o660]);
    } finally {
      await other.close();
    }
  });
});

describe('agent message framing', () => {
  const msg = (type: number, body: number[] = []) => Buffer.from([0, 0, 0, 1 + body.length, type, ...body]);

  it('splits a stream into whole messages however it is cut', () => {
    const stream = Buffer.concat([msg(11), msg(13, [1, 2, 3]), msg(17, [9])]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new AgentFramer();
      const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
      expect(out.map((b) => b.toString('hex'))).toEqual([msg(11), msg(13, [1, 2, 3]), msg(17, [9])].map((b) => b.toString('hex')));
    }
  });

  it('refuses oversized and empty messages', () => {
    expect(() => new AgentFramer().push(Buffer.from([0, 0x10, 0, 0, 11]))).toThrow(/agent message/);
    expect(() => new AgentFramer().push(Buffer.from([0, 0, 0, 0]))).toThrow(/agent message/);
  });

  it('lets through only listing and signing', () => {
    expect(agentRequestAllowed(msg(11))).toBe(true);
    expect(agentRequestAllowed(msg(13))).toBe(true);
    for (const t of [1, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27]) expect(agentRequestAllowed(msg(t))).toBe(false);
  });
});
