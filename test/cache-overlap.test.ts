// The cache export overlaps the build: a step's layer is uploaded as soon as the step has
// committed, not after the solve. The last RUN of the scenario waits (on the host network) until
// the registry lists the cache's repository, which it does once a first blob is in it: the build
// can only finish if an upload happened while its last step ran. The json events must say so
// too. mode=min uploads no blob of a step off the target's chain; a build that fails leaves no
// cache: no manifest in the registry, no layout (nor a temporary one) in the local directory.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildAsync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type LoggedRequest, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-overlap-'));

/** A RUN that waits (up to a minute) until the registry lists `repo`, then runs `then`. */
const waitFor = (repo: string, then: string) =>
  `RUN --network=host i=0; until wget -q -O- "http://$REGISTRY/v2/_catalog" | grep -q '"${repo}"'; do i=$((i+1)); [ $i -lt 600 ] || exit 3; sleep 0.1; done; ${then}`;

const dockerfile = (repo: string, last: string) =>
  [
    'FROM scratch AS base',
    'COPY rootfs/ /',
    'FROM base AS side',
    'RUN echo side only > /side-only && echo side > /side',
    'FROM base',
    'RUN head -c 300000 /dev/urandom > /first',
    'COPY --from=side /side /side',
    'ARG REGISTRY',
    waitFor(repo, last),
    '',
  ].join('\n');

interface JsonEvent {
  readonly kind: string;
  readonly digest?: string;
  readonly name?: string;
  readonly state?: string;
  readonly id?: string;
}

const events = (r: Run): JsonEvent[] =>
  r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonEvent);

describe.skipIf(!isRoot && !isCI)('the cache export overlaps the build', () => {
  let registry: TestRegistry;
  const context = join(work, 'context');

  const build = (root: string, ctx: string, out: string, extra: readonly string[]): Promise<Run> =>
    tsbuildAsync(['build', '--root', root, '--progress', 'json', '--allow', 'network.host', '--build-arg', `REGISTRY=${registry.host}`, '-o', `type=local,dest=${out}`, ...extra, ctx]).done;

  beforeAll(async () => {
    registry = await startRegistry(join(work, 'registry'));
    await makeBusyboxRootfs(join(context, 'rootfs'));
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads layers while the last step runs (mode=min: only the chain\'s), then the records and the manifest', async () => {
    writeContext(context, { Dockerfile: dockerfile('overlap/cache', 'echo seen > /seen') });
    const ref = `${registry.host}/overlap/cache:min`;
    const before = registry.requests().length;
    const out = join(work, 'out');
    const r = await build(join(work, 'root-a'), context, out, ['--cache-to', `type=registry,ref=${ref},mode=min`]);
    expectOk(r);
    expect(readFileSync(join(out, 'seen'), 'utf8')).toBe('seen\n');
    expect(readFileSync(join(out, 'side'), 'utf8')).toBe('side\n');

    const ev = events(r);
    const exportStep = ev.find((e) => e.kind === 'vertex' && e.name === `exporting cache to registry:${ref}`)!;
    expect(exportStep).toBeDefined();
    const lastStep = ev.find((e) => e.kind === 'vertex' && e.name?.includes('_catalog') === true && e.state === 'started')!;
    const lastDone = ev.findIndex((e) => e.kind === 'vertex' && e.digest === lastStep.digest && e.state === 'done');
    const firstUpload = ev.findIndex((e) => e.kind === 'status' && e.digest === exportStep.digest && e.id?.startsWith('uploading layer ') === true);
    expect(firstUpload).toBeGreaterThanOrEqual(0);
    expect(firstUpload).toBeLessThan(lastDone);
    // The export's step ends after the last step: the records and manifest come last.
    const exportDone = ev.findIndex((e) => e.kind === 'vertex' && e.digest === exportStep.digest && e.state === 'done');
    expect(exportDone).toBeGreaterThan(lastDone);

    // mode=min: the blobs uploaded are the manifest's layers (the image's chain) and its config,
    // not the side stage's RUN layer.
    const manifest = (await (
      await fetch(`http://${registry.host}/v2/overlap/cache/manifests/min`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
    ).json()) as { config: { digest: string }; layers: { digest: string }[] };
    // The base, RUN first, COPY --from and the last RUN.
    expect(manifest.layers).toHaveLength(4);
    const uploaded = registry
      .requests()
      .slice(before)
      .filter((q: LoggedRequest) => q.method === 'PUT' && q.uri.includes('/v2/overlap/cache/blobs/uploads/') && q.status === 201)
      .map((q) => new URLSearchParams(q.uri.slice(q.uri.indexOf('?') + 1)).get('digest'));
    expect(uploaded.sort()).toEqual([...manifest.layers.map((l) => l.digest), manifest.config.digest].sort());

    // A fresh runner hits every step from it.
    const again = await build(join(work, 'root-b'), context, join(work, 'out-b'), ['--cache-from', ref]);
    expectOk(again);
    expect(events(again).filter((e) => e.kind === 'vertex' && e.state === 'started' && e.name?.startsWith('[') === true)).toEqual([]);
    expect(readFileSync(join(work, 'out-b', 'first'))).toEqual(readFileSync(join(out, 'first')));
  });

  it('a build whose last step fails after uploads began leaves no cache: no manifest pushed, no local layout', async () => {
    const ctx = join(work, 'context-fail');
    rmSync(ctx, { recursive: true, force: true });
    writeContext(ctx, { Dockerfile: dockerfile('failing/cache', 'exit 7') });
    await makeBusyboxRootfs(join(ctx, 'rootfs'));
    const localDest = join(work, 'local-cache');
    const r = await build(join(work, 'root-fail'), ctx, join(work, 'out-fail'), [
      '--cache-to', `type=registry,ref=${registry.host}/failing/cache:max,mode=max`,
      '--cache-to', `type=local,dest=${localDest},mode=max`,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('exit code: 7');
    // Uploads did start (the RUN saw the repository), but no manifest names them.
    const res = await fetch(`http://${registry.host}/v2/failing/cache/manifests/max`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(404);
    expect(existsSync(localDest)).toBe(false);
    expect(readdirSync(work).filter((n) => n.startsWith('.local-cache.tmp-'))).toEqual([]);
  });
});
