// A build for a platform other than the host's (linux/arm64 here, on a host whose base image
// is its own platform): a base image that lacks the platform is an error naming what it has,
// wherever it comes from; RUN never executes a foreign binary natively; and the platform is
// in every step's cache key, so the host build's cache is never reused for it.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binfmtEntries, emulatorFor } from '../executor/index.js';
import { formatPlatform, hostPlatform } from '../frontend/index.js';
import { run, tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-platform-'));
const root = join(work, 'root');
const host = formatPlatform(hostPlatform());
const foreign = hostPlatform().architecture === 'arm64' ? 'linux/amd64' : 'linux/arm64';

function build(dir: string, extra: string[] = []) {
  return tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);
}

/** An OCI image config blob of an OCI layout directory (its only image). */
function layoutConfig(layout: string): { architecture: string; os: string } {
  const blob = (d: string) => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', d.slice('sha256:'.length)), 'utf8')) as Record<string, unknown>;
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string } };
  return blob(manifest.config.digest) as never;
}

describe.skipIf(!isRoot && !isCI)('building for a foreign platform', () => {
  let registry: TestRegistry;
  const layout = join(work, 'base-layout');

  beforeAll(async () => {
    const base = await busyboxBaseContext(join(work, 'base'));
    expectOk(build(base, ['-t', 'busybox:test', '-o', `type=oci,dest=${layout},tar=false`, '-o', 'type=image']));
    expect(layoutConfig(layout)).toMatchObject({ os: 'linux', architecture: hostPlatform().architecture });
    registry = await startRegistry(join(work, 'registry'));
    const r = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}`, `docker://${registry.host}/library/busybox:single`]);
    expect(r.status, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(`a base image without ${foreign} fails naming the platform it has: pulled, named context, OCI layout`, () => {
    const dir = writeContext(join(work, 'from'), { Dockerfile: `FROM ${registry.host}/library/busybox:single\nRUN true\n` });
    const pulled = build(dir, ['--platform', foreign]);
    expect(pulled.status).toBe(1);
    expect(pulled.stderr).toContain(`${registry.host}/library/busybox:single is an image for ${host}, not ${foreign}`);
    // --pull resolves it again: the same check applies.
    expect(build(dir, ['--platform', foreign, '--pull']).stderr).toContain(`is an image for ${host}, not ${foreign}`);

    const named = writeContext(join(work, 'named'), { Dockerfile: 'FROM base\nRUN true\n' });
    const viaImage = build(named, ['--platform', foreign, '--build-context', `base=docker-image://${registry.host}/library/busybox:single`]);
    expect(viaImage.status).toBe(1);
    expect(viaImage.stderr).toContain(`is an image for ${host}, not ${foreign}`);
    const viaLayout = build(named, ['--platform', foreign, '--build-context', `base=oci-layout://${layout}`]);
    expect(viaLayout.status).toBe(1);
    expect(viaLayout.stderr).toContain(`oci-layout://${layout} is an image for ${host}, not ${foreign}`);
  });

  it('a base image in the local store without the platform fails naming the platform it has', () => {
    // The name is looked for in its registry for the platform (which cannot have it here).
    const dir = writeContext(join(work, 'local'), { Dockerfile: 'FROM 127.0.0.1:1/busybox:local\n' });
    expectOk(tsbuildSync(['tag', '--root', root, 'busybox:test', '127.0.0.1:1/busybox:local']));
    const r = build(dir, ['--platform', foreign]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:1/busybox:local in the local store is ${host}, not ${foreign}`);
  });

  it.skipIf(emulatorFor(foreign.split('/')[1]!, binfmtEntries()) !== undefined)(
    'RUN for a platform this machine cannot run fails before anything runs; FROM --platform=$BUILDPLATFORM still runs',
    () => {
      const dir = writeContext(join(work, 'run'), {
        Dockerfile: [
          'FROM --platform=$BUILDPLATFORM busybox:test AS tools',
          'RUN uname -m > /built-on',
          'FROM scratch',
          'COPY --from=tools /built-on /built-on',
          'COPY a.txt /a.txt',
          '',
        ].join('\n'),
        'a.txt': 'a\n',
      });
      const out = join(work, 'run-out');
      expectOk(build(dir, ['--platform', foreign, '-o', `type=local,dest=${out}`]));
      expect(readdirSync(out).sort()).toEqual(['a.txt', 'built-on']);

      const bad = writeContext(join(work, 'run-bad'), { Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\nRUN ["/a.txt"]\n', 'a.txt': 'a\n' });
      const r = build(bad, ['--platform', foreign]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`run-bad/Dockerfile:3:1: not supported yet: RUN for ${foreign} on this ${host} machine without an emulator`);
      expect(r.stderr).toContain('binfmt_misc');
      expect(r.stderr).not.toContain('COPY a.txt');
    },
  );

  it('keys every step on its platform: the host build\'s cache is never reused for another platform', () => {
    const dir = scratchCopyContext();
    const hostOut = join(work, 'keys-host');
    const first = build(dir, ['-o', `type=oci,dest=${hostOut},tar=false`]);
    expectOk(first);
    expect(build(dir, ['-o', `type=oci,dest=${join(work, 'keys-host2')},tar=false`]).stderr).toMatch(/COPY busybox \/bin\/busybox\n#\d+ CACHED/);
    const foreignOut = join(work, 'keys-foreign');
    const other = build(dir, ['--platform', foreign, '-o', `type=oci,dest=${foreignOut},tar=false`]);
    expectOk(other);
    expect(other.stderr).not.toMatch(/CACHED/);
    expect(layoutConfig(foreignOut)).toMatchObject({ architecture: foreign.split('/')[1] });
    expect(layoutConfig(hostOut)).toMatchObject({ architecture: hostPlatform().architecture });
  });
});

/** A context copying a file into scratch (nothing runs, so any platform can build it). */
function scratchCopyContext(): string {
  const dir = join(work, 'keys');
  mkdirSync(dir, { recursive: true });
  return writeContext(dir, { Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nWORKDIR /srv\n', busybox: 'not really busybox\n' });
}
