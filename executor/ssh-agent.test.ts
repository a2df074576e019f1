// The agent proxy against a real OpenSSH agent, with ssh-add as the client.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshTool as ssh, startSshAgent, type TestAgent } from '../test/support/ssh-agent.js';
import { AgentFramer, agentRequestAllowed, serveAgentProxy, type AgentProxy } from './ssh-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-agent-'));
let agent: TestAgent;
let agentSock: string;

beforeAll(async () => {
  agent = await startSshAgent(dir, 'proxy-test');
  agentSock = agent.sock;
});

afterAll(() => {
  agent?.stop();
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
    const signed = await ssh('ssh-add', ['-T', `${agent.key}.pub`], proxy.path);
    expect(signed.status, signed.stderr).toBe(0);
  });

  it('refuses to change the agent: its keys stay', async () => {
    expect((await ssh('ssh-add', ['-D'], proxy.path)).status).not.toBe(0);
    expect((await ssh('ssh-add', [agent.key], proxy.path)).status).not.toBe(0);
    expect((await ssh('ssh-add', ['-d', `${agent.key}.pub`], proxy.path)).status).not.toBe(0);
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
