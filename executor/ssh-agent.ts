/**
 * `RUN --mount=type=ssh`: a socket the step can reach, forwarding to the user's SSH agent.
 *
 * Like BuildKit, the step gets a read-only view of the agent: it may list identities and ask
 * for signatures, while every request that would change the agent (add or remove keys, lock
 * it, extensions) is answered with SSH_AGENT_FAILURE without reaching it. The socket is our
 * own, so its owner and mode follow the mount's uid/gid/mode without touching the user's.
 *
 * The agent protocol (draft-miller-ssh-agent) frames each message as a 32-bit big-endian
 * length and a body whose first byte is the message type; a client sends one request and
 * reads one reply, so requests are handled one at a time, in order, per connection.
 */
import { chmod, chown } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';

/** OpenSSH's limit on one agent message. */
const MAX_MESSAGE = 256 * 1024;
const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENTC_SIGN_REQUEST = 13;
/** What a build may ask of the agent; everything else is refused. */
const ALLOWED: ReadonlySet<number> = new Set([SSH_AGENTC_REQUEST_IDENTITIES, SSH_AGENTC_SIGN_REQUEST]);

const FAILURE = Buffer.from([0, 0, 0, 1, SSH_AGENT_FAILURE]);

/** Splits a byte stream into whole agent messages (length prefix included). */
export class AgentFramer {
  private buf: Buffer = Buffer.alloc(0);

  /** The messages completed by `chunk`; throws on a message longer than the protocol allows. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len === 0 || len > MAX_MESSAGE) throw new Error(`agent message of ${len} bytes`);
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.subarray(0, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}

/** True for the requests forwarded to the agent. */
export function agentRequestAllowed(message: Buffer): boolean {
  return message.length > 4 && ALLOWED.has(message[4]!);
}

/** The replies of one upstream connection, handed out in order. */
class Upstream {
  private readonly framer = new AgentFramer();
  private readonly ready: Buffer[] = [];
  private readonly waiting: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void }> = [];
  private failed: Error | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = this.framer.push(chunk);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      for (const m of messages) {
        const w = this.waiting.shift();
        if (w !== undefined) w.resolve(m);
        else this.ready.push(m);
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('the SSH agent closed the connection')));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.socket.destroy();
  }

  async request(message: Buffer): Promise<Buffer> {
    if (this.failed !== undefined) throw this.failed;
    const reply = new Promise<Buffer>((resolve, reject) => {
      const r = this.ready.shift();
      if (r !== undefined) resolve(r);
      else this.waiting.push({ resolve, reject });
    });
    this.socket.write(message);
    return reply;
  }
}

function connectUpstream(path: string): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const socket = process.getBuiltinModule('node:net').createConnection(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new Upstream(socket));
    });
  });
}

function serveClient(client: Socket, agentPath: string): void {
  const framer = new AgentFramer();
  let upstream: Promise<Upstream> | undefined;
  let chain = Promise.resolve();
  const end = () => {
    client.destroy();
    void upstream?.then((u) => u.socket.destroy(), () => {});
  };
  client.on('data', (chunk: Buffer) => {
    let messages: Buffer[];
    try {
      messages = framer.push(chunk);
    } catch {
      end();
      return;
    }
    for (const m of messages) {
      chain = chain.then(async () => {
        if (client.destroyed) return;
        if (!agentRequestAllowed(m)) {
          client.write(FAILURE);
          return;
        }
        try {
          upstream ??= connectUpstream(agentPath);
          client.write(await (await upstream).request(m));
        } catch {
          // The agent went away: the step sees a closed connection, as with a dead agent.
          end();
        }
      });
    }
  });
  client.on('error', end);
  client.on('close', end);
}

export interface AgentProxy {
  /** The socket the step connects to (bind it into the container). */
  readonly path: string;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

export interface AgentSocketOwner {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** Listens on `path` (which must not exist) and forwards the allowed requests to `agentPath`. */
export async function serveAgentProxy(agentPath: string, path: string, owner: AgentSocketOwner): Promise<AgentProxy> {
  const clients = new Set<Socket>();
  // node:net only when an agent is forwarded: loading it costs every start a few milliseconds.
  const server: Server = process.getBuiltinModule('node:net').createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    serveClient(client, agentPath);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const c of clients) c.destroy();
      server.close(() => resolve());
    });
  try {
    await chown(path, owner.uid, owner.gid);
    await chmod(path, owner.mode);
  } catch (e) {
    await close();
    throw e;
  }
  return { path, close };
}
