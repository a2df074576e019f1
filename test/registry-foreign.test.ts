// Non-distributable ("foreign") layers against a real docker-registry (with Basic auth): a base
// image whose busybox layer the registry does not hold, and whose descriptor names URLs served
// by a node:http server of this test on loopback. (skopeo is meant to leave such blobs out of a
// push, and did in these runs; should one reach the registry all the same, the test deletes it,
// so that the registry holds the manifest only, as registries of such images do.)
// tsbuild builds on it (the layer comes from the URLs, with no credentials sent there), refuses
// a blob that is not the layer, and pushes and exports images built on it with the layer's
// descriptor unchanged and its blob never uploaded.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from './support/certs.js';
import { run, runAsync, tsbuildAsync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { filesNamed } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-foreign-'));
const dockerConfig = join(work, 'docker-config');
const USER = 'vendor';
const PASSWORD = 'F0reign-layers-pw';
const CREDS = `${USER}:${PASSWORD}`;

const ND_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
const DOCKER_FOREIGN_GZIP = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
}
interface RawManifest {
  mediaType: string;
  config: Desc;
  layers: Desc[];
}

let registry: TestRegistry;
let server: Server;
let serverBase: string;
/** The same URLs over TLS, with a certificate of a CA the test makes. */
let tlsServer: Server;
let tlsServerBase: string;
let tlsCa: string;
/** The base whose layer URL is served over TLS only. */
let overTls: string;
/** Path → bytes the URL server answers with; anything else is a 404. */
const served = new Map<string, Buffer>();
const urlRequests: { path: string; headers: IncomingHttpHeaders }[] = [];

/** The busybox layer made non-distributable: its descriptor as the base image lists it. */
let foreign: Desc;
let foreignBytes: Buffer;
let base: string;
let corrupt: string;
/** How many requests the registry had served when the base images were in place. */
let setupRequests = 0;

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tsbuild(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await tsbuildAsync(args, { env: { DOCKER_CONFIG: dockerConfig, ...env } }).done;
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  return r;
}

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'ctx-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

async function rawManifest(name: string): Promise<RawManifest> {
  const r = await runAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', CREDS, `docker://${name}`]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RawManifest;
}

/** Whether the registry holds blob `digest` in `repository` (a HEAD with the credentials). */
async function registryHas(repository: string, digest: string): Promise<boolean> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/blobs/${digest}`, {
    method: 'HEAD',
    headers: { authorization: `Basic ${Buffer.from(CREDS).toString('base64')}` },
  });
  expect([200, 404]).toContain(res.status);
  return res.status === 200;
}

/** Removes blob `digest` from `repository` (the registry allows deletes). */
async function registryDelete(repository: string, digest: string): Promise<void> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/blobs/${digest}`, {
    method: 'DELETE',
    headers: { authorization: `Basic ${Buffer.from(CREDS).toString('base64')}` },
  });
  expect(res.status).toBe(202);
}

/**
 * An OCI layout copy of `layout` whose first layer is non-distributable with `urls`, pushed with
 * skopeo to `ref`, the layer's blob then removed from the registry. Returns its descriptor.
 */
async function pushWithForeignLayer(layout: string, urls: string[], ref: string): Promise<Desc> {
  const dir = mkdtempSync(join(work, 'foreign-layout-'));
  cpSync(layout, dir, { recursive: true });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Desc[] };
  const entry = index.manifests[0]!;
  const blob = (d: string) => join(dir, 'blobs', 'sha256', d.slice('sha256:'.length));
  const manifest = JSON.parse(readFileSync(blob(entry.digest), 'utf8')) as RawManifest;
  const layer: Desc = {
    ...manifest.layers[0]!,
    mediaType: ND_GZIP,
    urls,
    annotations: { 'com.example.licence': 'redistribution not allowed' },
  };
  manifest.layers[0] = layer;
  const bytes = Buffer.from(JSON.stringify(manifest));
  writeFileSync(blob(sha256(bytes)), bytes);
  index.manifests[0] = { ...entry, digest: sha256(bytes), size: bytes.length };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const r = await runAsync('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${dir}:1`, `docker://${ref}`]);
  expect(r.status, r.stderr).toBe(0);
  const repository = ref.slice(registry.host.length + 1, ref.lastIndexOf(':'));
  if (await registryHas(repository, layer.digest)) await registryDelete(repository, layer.digest);
  return layer;
}

describe.skipIf(!isRoot && !isCI)('non-distributable layers', () => {
  beforeAll(async () => {
    const hash = run('htpasswd', ['-Bbn', USER, PASSWORD]);
    expect(hash.status, hash.stderr).toBe(0);
    registry = await startRegistry(join(work, 'registry'), { htpasswd: hash.stdout, foreignUrls: ['^https?://127\\.0\\.0\\.1:[0-9]+/'] });
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(CREDS).toString('base64') } } }));

    const answer = (req: IncomingMessage, res: ServerResponse) => {
      urlRequests.push({ path: req.url ?? '', headers: req.headers });
      const body = served.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }).end(body);
    };
    server = createServer(answer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const certs = makeCertificates(work, 'urls');
    tlsCa = certs.ca;
    tlsServer = createHttpsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, answer);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsServerBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;

    // The base: busybox in one layer (to become non-distributable), a file in a second.
    const ctx = context({ Dockerfile: 'FROM scratch\nCOPY rootfs/ /\nCOPY vendor.txt /vendor.txt\n', 'vendor.txt': 'from the vendor\n' });
    await makeBusyboxRootfs(join(ctx, 'rootfs'));
    const layout = join(work, 'base-layout');
    const made = await tsbuild(['build', '--root', join(work, 'maker'), '--progress', 'plain', '-o', `type=oci,dest=${layout},tar=false,name=base:1`, ctx]);
    expect(made.status, made.stderr).toBe(0);

    // The first URL has nothing; the second serves the layer.
    base = `${registry.host}/vendor/base:1`;
    foreign = await pushWithForeignLayer(layout, [`${serverBase}/missing/busybox.tar.gz`, `${serverBase}/layers/busybox.tar.gz`], base);
    foreignBytes = readFileSync(join(layout, 'blobs', 'sha256', foreign.digest.slice('sha256:'.length)));
    served.set('/layers/busybox.tar.gz', foreignBytes);
    // Same size, one bit changed: not the layer.
    const wrong = Buffer.from(foreignBytes);
    wrong[wrong.length >> 1] = wrong[wrong.length >> 1]! ^ 0x40;
    served.set('/layers/corrupt.tar.gz', wrong);
    corrupt = `${registry.host}/vendor/corrupt:1`;
    await pushWithForeignLayer(layout, [`${serverBase}/layers/corrupt.tar.gz`], corrupt);
    overTls = `${registry.host}/vendor/over-tls:1`;
    await pushWithForeignLayer(layout, [`${tlsServerBase}/layers/busybox.tar.gz`], overTls);
    setupRequests = registry.requests().length;
  });

  afterAll(async () => {
    await registry?.stop();
    for (const srv of [server, tlsServer]) await new Promise<void>((resolve) => (srv === undefined ? resolve() : srv.close(() => resolve())));
    rmSync(work, { recursive: true, force: true });
  });

  it('the base in the registry: its manifest names the layer URLs, the registry lacks the layer blob', async () => {
    const m = await rawManifest(base);
    expect(m.layers[0]).toEqual(foreign);
    expect(await registryHas('vendor/base', foreign.digest)).toBe(false);
    expect(await registryHas('vendor/base', m.layers[1]!.digest)).toBe(true);
  });

  it('builds FROM the base: the layer comes from its URLs, without the registry credentials', async () => {
    urlRequests.length = 0;
    const root = join(work, 'root');
    const r = await tsbuild(['build', '--root', root, '--progress', 'plain', '-o', 'type=image,name=foreign/app:1', context({ Dockerfile: `FROM ${base}\nRUN cat /vendor.txt && busybox echo ran-on-foreign-layer > /made.txt\n` })]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^#\d+ [\d.]+ from the vendor$/m);
    // In order: the URL without the blob, then the one with it; never a credential.
    expect(urlRequests.map((q) => q.path)).toEqual(['/missing/busybox.tar.gz', '/layers/busybox.tar.gz']);
    for (const q of urlRequests) {
      expect(q.headers.authorization).toBeUndefined();
      expect(JSON.stringify(q.headers)).not.toContain(Buffer.from(CREDS).toString('base64'));
    }
    // The registry was asked for the blob first (and answered 404).
    expect(registry.requests().some((q) => q.method === 'GET' && q.uri === `/v2/vendor/base/blobs/${foreign.digest}` && q.status === 404)).toBe(true);
    expect(filesNamed(root, foreign.digest.slice('sha256:'.length))).toHaveLength(1);
  });

  it('refuses a URL serving other bytes: a clear digest error, nothing stored', async () => {
    const root = join(work, 'root-corrupt');
    const r = await tsbuild(['build', '--root', root, '--progress', 'plain', context({ Dockerfile: `FROM ${corrupt}\nRUN true\n` })]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`non-distributable layer ${foreign.digest} (${ND_GZIP}) is not in the registry, and none of its URLs served it`);
    expect(r.stderr).toContain(`${serverBase}/layers/corrupt.tar.gz: `);
    expect(r.stderr).toMatch(/expected sha256:[0-9a-f]{64}/);
    expect(filesNamed(root, foreign.digest.slice('sha256:'.length))).toEqual([]);
  });

  it('fetches a layer URL over TLS trusting NODE_EXTRA_CA_CERTS, which the CLI reads only when it connects', async () => {
    const app = context({ Dockerfile: `FROM ${overTls}\nRUN cat /vendor.txt\n` });
    // Without the URL server's CA: refused on its certificate, nothing stored.
    const refusedRoot = join(work, 'root-tls-refused');
    const refused = await tsbuild(['build', '--root', refusedRoot, '--progress', 'plain', app], { NODE_EXTRA_CA_CERTS: '' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${tlsServerBase}/layers/busybox.tar.gz: `);
    expect(refused.stderr).toMatch(/certificate|self-signed|verify/i);
    expect(filesNamed(refusedRoot, foreign.digest.slice('sha256:'.length))).toEqual([]);
    // With it: the layer comes over TLS.
    urlRequests.length = 0;
    const ok = await tsbuild(['build', '--root', join(work, 'root-tls'), '--progress', 'plain', app], { NODE_EXTRA_CA_CERTS: tlsCa });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^#\d+ [\d.]+ from the vendor$/m);
    expect(urlRequests.map((q) => q.path)).toEqual(['/layers/busybox.tar.gz']);
  });

  it('pushes images built on it with the layer descriptor unchanged and its blob never uploaded', async () => {
    const root = join(work, 'root');
    const app = context({ Dockerfile: `FROM ${base}\nRUN echo pushed > /pushed.txt\n` });
    // A build output, with OCI and with Docker media types.
    const oci = `${registry.host}/vendor/app-oci:1`;
    const docker = `${registry.host}/vendor/app-docker:1`;
    const built = await tsbuild(['build', '--root', root, '--progress', 'plain', '-o', `type=registry,name=${oci}`, '-o', `type=registry,name=${docker},oci-mediatypes=false`, '-o', 'type=image,name=foreign/app:2', app]);
    expect(built.status, built.stderr).toBe(0);
    // tsbuild push of the image in the local store, both flavours.
    const pushedOci = `${registry.host}/vendor/pushed-oci:1`;
    const pushedDocker = `${registry.host}/vendor/pushed-docker:1`;
    for (const [format, target] of [['oci', pushedOci], ['docker', pushedDocker]] as const) {
      const p = await tsbuild(['push', '--root', root, '--format', format, 'foreign/app:2', target]);
      expect(p.status, p.stderr).toBe(0);
    }
    for (const [name, mediaType] of [[oci, ND_GZIP], [pushedOci, ND_GZIP], [docker, DOCKER_FOREIGN_GZIP], [pushedDocker, DOCKER_FOREIGN_GZIP]] as const) {
      const m = await rawManifest(name);
      expect(m.layers, name).toHaveLength(3);
      // Docker media types name the same layer with Docker's foreign type; all else is as pulled.
      expect(m.layers[0], name).toEqual({ ...foreign, mediaType });
      const repository = name.slice(registry.host.length + 1, name.lastIndexOf(':'));
      expect(await registryHas(repository, foreign.digest), name).toBe(false);
      // The other layers went up.
      for (const l of m.layers.slice(1)) expect(await registryHas(repository, l.digest), `${name} ${l.digest}`).toBe(true);
    }
    // tsbuild never started or finished an upload of the foreign blob, to any repository.
    const uploads = registry.requests().slice(setupRequests).filter((q) => (q.method === 'PUT' || q.method === 'POST' || q.method === 'PATCH') && q.uri.includes(foreign.digest.slice('sha256:'.length)));
    expect(uploads).toEqual([]);

    // Pulled back from the registry by a fresh root, built on, and run.
    urlRequests.length = 0;
    const again = await tsbuild(['build', '--root', join(work, 'root-again'), '--progress', 'plain', context({ Dockerfile: `FROM ${pushedDocker}\nRUN cat /pushed.txt\n` })]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^#\d+ [\d.]+ pushed$/m);
    expect(urlRequests.map((q) => q.path)).toEqual(['/missing/busybox.tar.gz', '/layers/busybox.tar.gz']);
  });

  it('exports OCI layouts and docker archives with the descriptor and, being here, the blob', async () => {
    const root = join(work, 'root');
    const app = context({ Dockerfile: `FROM ${base}\nRUN echo exported > /exported.txt\n` });
    const layout = join(work, 'export-layout');
    const archive = join(work, 'export.tar');
    const r = await tsbuild(['build', '--root', root, '--progress', 'plain', '-o', `type=oci,dest=${layout},tar=false,name=exported:1`, '-o', `type=docker,dest=${archive},name=exported:1,oci-mediatypes=false`, app]);
    expect(r.status, r.stderr).toBe(0);

    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Desc[] };
    const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice('sha256:'.length));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as RawManifest;
    expect(manifest.layers[0]).toEqual(foreign);
    expect(readFileSync(blob(foreign.digest)).equals(foreignBytes)).toBe(true);
    // skopeo reads the layout and finds the layer's URLs in it.
    const inspected = await runAsync('skopeo', ['inspect', '--raw', `oci:${layout}:1`]);
    expect(inspected.status, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as RawManifest).layers[0]!.urls).toEqual(foreign.urls);

    // The docker archive with Docker media types: the foreign type for the layer, its blob inside.
    const list = run('tar', ['-tf', archive]);
    expect(list.stdout.split('\n')).toContain(`blobs/sha256/${foreign.digest.slice('sha256:'.length)}`);
    const dockerIndex = JSON.parse(run('tar', ['-xOf', archive, 'index.json']).stdout) as { manifests: Desc[] };
    const dockerManifest = JSON.parse(run('tar', ['-xOf', archive, `blobs/sha256/${dockerIndex.manifests[0]!.digest.slice('sha256:'.length)}`]).stdout) as RawManifest;
    expect(dockerManifest.layers[0]).toEqual({ ...foreign, mediaType: DOCKER_FOREIGN_GZIP });
  });
});
