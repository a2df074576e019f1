// RUN's network, end to end through the CLI: the default network is a namespace of the build's
// own (slirp4netns), apart from the host's loopback, abstract unix sockets and traffic, with
// outbound access and DNS; the host's network needs --allow network.host. Each escape is tried
// from a RUN step, and checked on the host (did the host's server see anything?) and in the
// image (what the step could read). Nothing here reaches the internet: the "outside" is a veth
// pair on this host, with an address in 198.18.0.0/15 (a range set apart for tests).
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedResolvConf } from '../executor/resolv-conf.js';
import { repoRoot } from './shared.js';
import { startDnsServer, type DnsServer } from './support/dns.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';
import { mountsUnder, run, runAsync, TSBUILD, tsbuildAsync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-network-'));
const root = join(work, 'root');
/** Inherited by every process a build starts outside its steps: how the tests find them. */
const MARK_VAR = 'TSBUILD_NETWORK_TEST';
const MARK = `${MARK_VAR}=${process.pid}`;
const markEnv = { [MARK_VAR]: String(process.pid) };

// The "outside": a veth pair with 198.18.N.1/30 on one end.
const octet = process.pid % 250;
const outsideAddr = `198.18.${octet}.1`;
const vethA = `tsn${process.pid % 100000}a`;
const vethB = `tsn${process.pid % 100000}b`;

const SECRET = 'host-loopback-secret';
let loopback: HttpServer;
let loopbackPort = 0;
let loopbackRequests = 0;
let outside: HttpServer;
let outsidePort = 0;
const abstractName = `tsbuild-network-test-${process.pid}`;
let abstractServer: NetServer;
let abstractConnections = 0;

function listen(server: HttpServer, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

function build(dir: string, extra: readonly string[] = []): Promise<Run> {
  return tsbuildAsync(['build', '--root', root, '--progress', 'plain', ...extra, dir], { env: markEnv }).done;
}

/** Builds a Dockerfile (its lines) into a rootfs directory and returns that directory. */
async function buildToDir(name: string, lines: readonly string[], extra: readonly string[] = []): Promise<string> {
  const out = join(work, `${name}-out`);
  rmSync(out, { recursive: true, force: true });
  expectOk(await build(writeContext(join(work, name), { Dockerfile: [...lines, ''].join('\n') }), [...extra, '-o', `type=local,dest=${out}`]));
  return out;
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');
const readIf = (dir: string, path: string) => (existsSync(join(dir, path)) ? read(dir, path) : '');
const HOST = ['--network', 'host', '--allow', 'network.host'];

/** Live processes (zombies have no environment) started by this file's builds. */
function markedProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(MARK)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim()}`);
      }
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const nsfsMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(' nsfs ')).length;

describe.skipIf(!isRoot && !isCI)('RUN network', () => {
  beforeAll(async () => {
    // The base image carries a static probe for what busybox cannot show (testdata/net-probe).
    const base = await busyboxBaseContext(join(work, 'base'), ['COPY probe /probe']);
    const cc = run('gcc', ['-static', '-O2', '-o', join(base, 'probe'), join(repoRoot, 'testdata', 'net-probe', 'probe.c')]);
    if (cc.status !== 0) throw new Error(`gcc -static failed: ${cc.stderr}`);
    expectOk(await build(base, ['-t', 'netbase:test']));

    loopback = createHttpServer((_req, res) => {
      loopbackRequests++;
      res.end(SECRET);
    });
    loopbackPort = await listen(loopback, '127.0.0.1');
    abstractServer = createNetServer((c) => {
      abstractConnections++;
      c.end();
    });
    await new Promise<void>((resolve) => abstractServer.listen(`\0${abstractName}`, resolve));

    run('ip', ['link', 'del', vethA]);
    for (const args of [
      ['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB],
      ['addr', 'add', `${outsideAddr}/30`, 'dev', vethA],
      ['link', 'set', vethA, 'up'],
      ['link', 'set', vethB, 'up'],
    ]) {
      const r = run('ip', args);
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
    outside = createHttpServer((_req, res) => res.end('outbound-ok'));
    outsidePort = await listen(outside, outsideAddr);
  });

  afterAll(async () => {
    loopback?.close();
    outside?.close();
    abstractServer?.close();
    run('ip', ['link', 'del', vethA]);
    expect(mountsUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('a host service on 127.0.0.1 is out of reach by default (also through the gateway), and 127.0.0.1 is the step\'s own loopback', async () => {
    const out = await buildToDir('loopback', [
      'FROM netbase:test',
      `RUN wget -q -O /loopback http://127.0.0.1:${loopbackPort}/; echo $? > /loopback.rc; wget -q -O /gateway http://10.0.2.2:${loopbackPort}/; echo $? > /gateway.rc`,
      // A server of the step's own on its loopback answers.
      'RUN mkdir /www && echo own > /www/index.html && httpd -p 127.0.0.1:8080 -h /www && wget -q -O /own http://127.0.0.1:8080/index.html',
    ]);
    expect(loopbackRequests).toBe(0);
    expect(read(out, 'loopback.rc')).not.toBe('0\n');
    expect(read(out, 'gateway.rc')).not.toBe('0\n');
    expect(readIf(out, 'loopback')).not.toContain(SECRET);
    expect(readIf(out, 'gateway')).not.toContain(SECRET);
    expect(read(out, 'own')).toBe('own\n');
  });

  it('the host network, granted by --allow network.host, reaches the host\'s loopback', async () => {
    const out = await buildToDir('loopback-host', ['FROM netbase:test', `RUN wget -q -O /loopback http://127.0.0.1:${loopbackPort}/`], HOST);
    expect(read(out, 'loopback')).toBe(SECRET);
    const step = await buildToDir('loopback-step', ['FROM netbase:test', `RUN --network=host wget -q -O /loopback http://127.0.0.1:${loopbackPort}/?step`], ['--allow', 'network.host']);
    expect(read(step, 'loopback')).toBe(SECRET);
  });

  it('a host abstract unix socket is out of reach by default, reachable on the host network', async () => {
    const before = abstractConnections;
    const out = await buildToDir('abstract', ['FROM netbase:test', `RUN /probe abstract ${abstractName} > /abstract`]);
    expect(read(out, 'abstract')).toBe('refused: Connection refused\n');
    expect(abstractConnections).toBe(before);
    const host = await buildToDir('abstract-host', ['FROM netbase:test', `RUN /probe abstract ${abstractName} > /abstract`], HOST);
    expect(read(host, 'abstract')).toBe('connected\n');
    expect(abstractConnections).toBe(before + 1);
  });

  it('an AF_PACKET capture in RUN sees none of the host\'s loopback traffic, and its own', async () => {
    // Marked datagrams cross the host's loopback all through both builds.
    const marker = `tsbuild-host-traffic-${process.pid}`;
    const sink = createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    const port = sink.address().port;
    const sender = createSocket('udp4');
    const timer = setInterval(() => sender.send(marker, port, '127.0.0.1'), 10);
    try {
      const lines = ['FROM netbase:test', `RUN /probe packet ${marker} 1500 > /packets`];
      const out = await buildToDir('packet', lines);
      const host = await buildToDir('packet-host', lines, HOST);
      expect(read(out, 'packets')).toMatch(/^self [1-9]\d* marked 0\n$/);
      expect(read(host, 'packets')).toMatch(/^self [1-9]\d* marked [1-9]\d*\n$/);
    } finally {
      clearInterval(timer);
      sender.close();
      sink.close();
    }
  });

  it('reaches a non-loopback host address through the user-space stack', async () => {
    const out = await buildToDir('outbound', ['FROM netbase:test', `RUN wget -q -O /got http://${outsideAddr}:${outsidePort}/ && ip -4 -o addr show dev tap0 | awk '{print $4}' > /addr`]);
    expect(read(out, 'got')).toBe('outbound-ok');
    // The step sees the stack's private address, not the host's.
    expect(read(out, 'addr')).toBe('10.0.2.100/24\n');
  });

  it('joins one namespace per build: two RUNs see the same one, not the host\'s', async () => {
    const out = await buildToDir('netns', ['FROM netbase:test', 'RUN readlink /proc/self/ns/net > /ns1', 'RUN readlink /proc/self/ns/net > /ns2']);
    expect(read(out, 'ns1')).toMatch(/^net:\[\d+\]\n$/);
    expect(read(out, 'ns2')).toBe(read(out, 'ns1'));
    expect(read(out, 'ns1')).not.toBe(`${readlinkSync('/proc/self/ns/net')}\n`);
  });

  describe('DNS', () => {
    /** A build with /etc/resolv.conf replaced by `resolv` (a private mount namespace, as the builder's own is). */
    function buildWithResolvConf(name: string, resolv: string, lines: readonly string[]): Promise<{ run: Run; out: string }> {
      const file = join(work, `${name}.resolv.conf`);
      writeFileSync(file, resolv);
      const dir = writeContext(join(work, name), { Dockerfile: [...lines, ''].join('\n') });
      const out = join(work, `${name}-out`);
      // No cache: resolv.conf is no part of a step's key, so an earlier build's step would hit.
      const args = ['build', '--root', root, '--no-cache', '--progress', 'plain', '-o', `type=local,dest=${out}`, dir];
      return runAsync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', file, process.execPath, TSBUILD, ...args], { env: markEnv }).then((r) => ({ run: r, out }));
    }
    const lookup = ['FROM netbase:test', 'RUN cat /etc/resolv.conf > /resolv && nslookup build.test > /lookup'];

    it('keeps the host\'s resolv.conf when its nameservers are reachable, on the default network as on the host\'s', async () => {
      const host = readFileSync('/etc/resolv.conf', 'utf8');
      const out = await buildToDir('resolv', ['FROM netbase:test', 'RUN cat /etc/resolv.conf > /resolv']);
      expect(read(out, 'resolv')).toBe(isolatedResolvConf(host, '10.0.2.3'));
      const onHost = await buildToDir('resolv-host', ['FROM netbase:test', 'RUN cat /etc/resolv.conf > /resolv'], HOST);
      expect(read(onHost, 'resolv')).toBe(host);
    });

    it('queries a resolver on a host address through the stack', async () => {
      const dns: DnsServer = await startDnsServer(outsideAddr, 53, new Map([['build.test', '198.18.200.7']]));
      try {
        const { run: r, out } = await buildWithResolvConf('dns-outside', `nameserver ${outsideAddr}\noptions ndots:1\n`, lookup);
        expectOk(r);
        expect(read(out, 'resolv')).toBe(`nameserver ${outsideAddr}\noptions ndots:1\n`);
        expect(read(out, 'lookup')).toContain('Address: 198.18.200.7');
        expect(dns.queries).toContain('build.test');
      } finally {
        await dns.close();
      }
    });

    it('a loopback resolver (systemd-resolved\'s 127.0.0.53) is reached through the stack\'s forwarder', async () => {
      const dns: DnsServer = await startDnsServer('127.0.0.53', 53, new Map([['build.test', '198.18.200.8']]));
      try {
        const { run: r, out } = await buildWithResolvConf('dns-loopback', 'nameserver 127.0.0.53\nsearch example.test\n', lookup);
        expectOk(r);
        expect(read(out, 'resolv')).toBe('nameserver 10.0.2.3\nsearch example.test\n');
        expect(read(out, 'lookup')).toContain('Address: 198.18.200.8');
        expect(dns.queries).toContain('build.test');
      } finally {
        await dns.close();
      }
    });
  });

  describe('network.host', () => {
    it('RUN --network=host without --allow network.host fails with BuildKit\'s message before any step runs', async () => {
      const dir = writeContext(join(work, 'denied-step'), { Dockerfile: 'FROM netbase:test\nRUN touch /ran\nRUN --network=host true\n' });
      const r = await build(dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('denied-step/Dockerfile:3:1: network.host is not allowed');
      expect(r.stderr).toContain('RUN --network=host needs --allow network.host');
      expect(r.stderr).not.toMatch(/RUN touch \/ran/);
    });

    it('--network host without --allow network.host fails the same way; --network none needs nothing', async () => {
      const dir = writeContext(join(work, 'denied-flag'), { Dockerfile: 'FROM netbase:test\nRUN ip -o link | cut -d: -f2 | tr -d " " > /links\n' });
      const r = await build(dir, ['--network', 'host']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('network.host is not allowed');
      expect(r.stderr).toContain('--network host needs --allow network.host');
      const out = join(work, 'denied-flag-out');
      expectOk(await build(dir, ['--network', 'none', '-o', `type=local,dest=${out}`]));
      expect(read(out, 'links')).toBe('lo\n');
    });
  });

  describe('cleanup', () => {
    it('leaves no holder, stack, mount or file behind when a build succeeds or fails', async () => {
      const nsfs = nsfsMounts();
      const tmpBefore = existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')).sort() : [];
      const ok = writeContext(join(work, 'cleanup-ok'), { Dockerfile: 'FROM netbase:test\nRUN echo ok > /ok\n' });
      expectOk(await build(ok, ['--no-cache']));
      expect(markedProcesses()).toEqual([]);
      const failing = writeContext(join(work, 'cleanup-fail'), { Dockerfile: 'FROM netbase:test\nRUN echo going\nRUN exit 3\n' });
      const r = await build(failing, ['--no-cache']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('exit code: 3');
      expect(markedProcesses()).toEqual([]);
      expect(nsfsMounts()).toBe(nsfs);
      expect(existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')).sort() : []).toEqual(tmpBefore);
    });

    it('leaves no holder or stack behind when the builder is killed with SIGKILL', async () => {
      const dir = writeContext(join(work, 'cleanup-kill'), { Dockerfile: 'FROM netbase:test\nRUN sleep 60\n' });
      const { child, done } = tsbuildAsync(['build', '--root', root, '--no-cache', '--progress', 'plain', dir], { env: markEnv });
      const waitFor = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
        if (!ok()) throw new Error(`${what}; marked processes: ${markedProcesses().join(', ')}`);
      };
      await waitFor('the stack never started', () => markedProcesses().some((p) => p.includes('slirp4netns')));
      expect(markedProcesses().filter((p) => p.includes('--hold-netns'))).toHaveLength(1);
      child.kill('SIGKILL');
      await done;
      await waitFor('a holder or stack outlived the builder', () => markedProcesses().length === 0);
    });
  });
});
