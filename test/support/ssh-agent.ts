/** A real OpenSSH agent (Debian's openssh-client) for the tests of RUN --mount=type=ssh. */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const missing = (cmd: string, e: Error) => new Error(`${cmd} is not installed (bash scripts/install-deps.sh installs openssh-client): ${e.message}`);

export interface SshRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an OpenSSH tool against the agent at `sock`, without blocking this process's event loop. */
export function sshTool(cmd: string, args: readonly string[], sock: string): Promise<SshRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: '', DISPLAY: '' } }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code === 'string') return reject(missing(cmd, error));
      resolve({ status: error === null ? 0 : ((error.code as number | undefined) ?? 1), stdout, stderr });
    });
    child.stdin?.end();
  });
}

export interface TestAgent {
  readonly sock: string;
  /** The private key's path (its public key is beside it, `.pub`). */
  readonly key: string;
  stop(): void;
}

/** Starts ssh-agent on `dir`/agent.sock holding one new ed25519 key commented `comment`. */
export async function startSshAgent(dir: string, comment: string): Promise<TestAgent> {
  const sock = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    agent.once('error', (e) => reject(missing('ssh-agent', e)));
    const poll = () => (existsSync(sock) ? resolve() : setTimeout(poll, 20));
    poll();
  });
  const key = join(dir, 'agent-key');
  for (const [cmd, args] of [['ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]], ['ssh-add', [key]]] as const) {
    const r = await sshTool(cmd, args, sock);
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  return { sock, key, stop: () => void agent.kill() };
}
