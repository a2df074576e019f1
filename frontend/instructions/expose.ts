/**
 * EXPOSE words: `80`, `80/udp`, `8000-8010/tcp`, and the docker-run style
 * `[ip:]hostPort:port[/proto]` that BuildKit still accepts (with a lint warning). BuildKit does
 * this when converting EXPOSE, after expanding each word (which may split it into several).
 */
import type { SourceRange } from '../../errors/index.js';
import type { ExposePort } from './types.js';
import { fail, goQuoted } from './errors.js';
import { goParseInt } from './gostrconv.js';

/** Parse one expanded EXPOSE word. Throws BuildError BAD_INSTRUCTION with BuildKit's text. */
export function parseExposePort(word: string, range?: SourceRange): ExposePort {
  const bad = (message: string): never => fail('BAD_INSTRUCTION', message, range);
  const { hostIP, hostPort, port: containerPart } = splitParts(word);

  const slash = containerPart.indexOf('/');
  const port = slash < 0 ? containerPart : containerPart.slice(0, slash);
  const protoText = slash < 0 ? '' : containerPart.slice(slash + 1);
  if (port === '') bad(`invalid port: ${goQuoted(word)}: no port specified`);
  const proto = protoText.toLowerCase();
  if (proto !== '' && proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') {
    bad(`invalid port: ${goQuoted(word)}: invalid proto: ${protoText}`);
  }

  if (hostIP !== '') checkIP(hostIP, bad);

  const container = portRange(port);
  if (container === undefined) bad(`invalid containerPort: ${port}`);
  const [start, end] = container!;
  if (hostPort !== '') {
    const host = portRange(hostPort);
    if (host === undefined) bad(`invalid hostPort: ${hostPort}`);
    if (end - start !== host![1] - host![0] && end !== start) {
      bad(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }

  return {
    start,
    end,
    proto: (proto === '' ? 'tcp' : proto) as ExposePort['proto'],
    protoText,
    ...(hostIP === '' ? {} : { hostIP }),
    ...(hostPort === '' ? {} : { hostPort }),
  };
}

/** The image config's ExposedPorts keys for a parsed word: `8000/tcp`, `8001/tcp`, … */
export function exposedPortKeys(p: ExposePort): string[] {
  const keys: string[] = [];
  for (let n = p.start; n <= p.end; n++) keys.push(`${n}/${p.proto}`);
  return keys;
}

/** `a:b:c` → ip a, host b, port c; more colons belong to the (IPv6) address. */
function splitParts(word: string): { hostIP: string; hostPort: string; port: string } {
  const parts = word.split(':');
  const n = parts.length;
  if (n === 1) return { hostIP: '', hostPort: '', port: parts[0]! };
  if (n === 2) return { hostIP: '', hostPort: parts[0]!, port: parts[1]! };
  return { hostIP: parts.slice(0, n - 2).join(':'), hostPort: parts[n - 2]!, port: parts[n - 1]! };
}

function checkIP(ip: string, bad: (message: string) => never): void {
  let addr = ip;
  if (addr.startsWith('[')) {
    // A bracketed IPv6 address: exactly one pair of brackets around the whole address.
    if (!addr.endsWith(']') || addr.indexOf(']') !== addr.length - 1 || addr.lastIndexOf('[') !== 0) {
      bad(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    }
    addr = addr.slice(1, -1);
  }
  // Go's net.ParseIP: plain IPv4 or IPv6, no zone.
  // node:net is loaded here, not at every start: few EXPOSE words name an address.
  if (addr.includes('%') || process.getBuiltinModule('node:net').isIP(addr) === 0) bad(`invalid IP address: ${addr}`);
}

/** `N` or `N-M` with 0 ≤ N ≤ M ≤ 65535; undefined when malformed. */
function portRange(text: string): [number, number] | undefined {
  if (text === '') return undefined;
  const dash = text.indexOf('-');
  const startText = dash < 0 ? text : text.slice(0, dash);
  const endText = dash < 0 ? undefined : text.slice(dash + 1);
  const start = portNumber(startText);
  if (start === undefined) return undefined;
  if (endText === undefined || endText === startText) return [start, start];
  const end = portNumber(endText);
  if (end === undefined || end < start) return undefined;
  return [start, end];
}

function portNumber(text: string): number | undefined {
  const r = goParseInt(text, 10, 64);
  if (!('value' in r) || r.value < 0n || r.value > 65535n) return undefined;
  return Number(r.value);
}
