/**
 * A tiny DNS server for the network tests: answers A queries for the names it was given
 * (anything else: NXDOMAIN), over UDP, and counts the queries it saw. Enough for busybox's
 * nslookup; no recursion, no TCP.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface DnsServer {
  /** Queries received so far, by name. */
  readonly queries: string[];
  close(): Promise<void>;
}

function questionEnd(msg: Buffer): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]!;
    if (len > 63 || i + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), end: i + 5 };
}

function answer(query: Buffer, names: ReadonlyMap<string, string>): Buffer | undefined {
  if (query.length < 12) return undefined;
  const q = questionEnd(query);
  if (q === undefined) return undefined;
  const type = query.readUInt16BE(q.end - 4);
  const address = names.get(q.name);
  const found = address !== undefined;
  const records = found && type === 1 ? 1 : 0;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // the id
  header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2); // response, recursion desired+available; NXDOMAIN when unknown
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records, 6);
  const parts = [header, query.subarray(12, q.end)];
  if (records === 1) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    address!.split('.').forEach((octet, k) => rr.writeUInt8(Number(octet), 12 + k));
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

/** Listens on host:port (UDP) and answers A queries for `names` (name → IPv4 address). */
export function startDnsServer(host: string, port: number, names: ReadonlyMap<string, string>): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, from) => {
    const q = questionEnd(msg);
    if (q !== undefined) queries.push(q.name);
    const reply = answer(msg, names);
    if (reply !== undefined) socket.send(reply, from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve({ queries, close: () => new Promise((r) => socket.close(() => r())) });
    });
  });
}
