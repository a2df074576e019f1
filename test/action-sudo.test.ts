// The action as a runner's own user runs it (not root): the entry point reaches the build through
// passwordless sudo, as on GitHub's hosted runners (`NOPASSWD: ALL`). A system user of the test's
// own, a sudoers.d entry for it while the test runs, the entry point started as that user
// (setpriv): the image is built by root and pushed, the outputs land in a GITHUB_OUTPUT file of
// that user's. Without the entry sudo wants a password: one clear error, exit 1.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionEntryFile, inputEnv, readOutputFile, runAction, runnerFiles } from './support/action.js';
import { runAsync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { makeBusyboxRootfs } from './support/rootfs.js';
import { writeContext } from './support/workspace.js';

const USER = 'tsbuild-action-test';
const SUDOERS = `/etc/sudoers.d/${USER}`;
const SECRET = 'sudo-side-secret-3141';
const work = mkdtempSync(join(tmpdir(), 'tsbuild-action-sudo-'));
const workspace = join(work, 'workspace');

const sh = (cmd: string, args: readonly string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`${cmd} is not installed: ${r.error.message} (bash scripts/install-deps.sh installs it)`);
  return r;
};

let registry: TestRegistry;
let uid: number;
let gid: number;

/** A runner's directories and files, owned by the user; the environment its step gets. */
function runner(name: string) {
  const { dir, outputFile, summaryFile, env: files } = runnerFiles(join(work, name), workspace);
  for (const p of [dir, join(dir, 'home'), join(dir, 'temp'), outputFile, summaryFile]) chownSync(p, uid, gid);
  const env: Record<string, string> = {
    ...files,
    ...inputEnv({ context: '.', tags: `${registry.host}/sudo/app:1`, push: 'true', secrets: `token=${SECRET}` }, { 'github-token': 'ghs_sudo-test' }),
  };
  return { dir, env, outputFile };
}

const asUser = () => ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'];

describe.skipIf(!isRoot && !isCI)('the action as a user other than root, through sudo', () => {
  beforeAll(async () => {
    if (sh('id', ['-u', USER]).status !== 0) {
      const made = sh('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
      if (made.status !== 0) throw new Error(`useradd failed: ${made.stderr}`);
    }
    uid = Number(sh('id', ['-u', USER]).stdout.trim());
    gid = Number(sh('id', ['-g', USER]).stdout.trim());
    chmodSync(work, 0o755);
    // The user runs this checkout's files: a checkout only root can read fails here, saying so.
    const reads = sh('setpriv', [...asUser().slice(1, -1), '--', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(actionEntryFile())})`]);
    if (reads.status !== 0) throw new Error(`${USER} cannot read ${actionEntryFile()}: put the checkout where other users can read it (${reads.stderr.trim()})`);
    registry = await startRegistry(join(work, 'registry'));
    writeContext(workspace, {
      Dockerfile: ['FROM scratch', 'COPY rootfs/ /', 'RUN --mount=type=secret,id=token,required=true id -u > /built-by && wc -c < /run/secrets/token > /token.len', ''].join('\n'),
    });
    await makeBusyboxRootfs(join(workspace, 'rootfs'));
  }, 120_000);
  afterAll(async () => {
    rmSync(SUDOERS, { force: true });
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('with passwordless sudo the build runs as root: the image is pushed, the outputs are in the user’s own GITHUB_OUTPUT', async () => {
    if (sh('sudo', ['-V']).status !== 0) throw new Error('sudo is not installed (bash scripts/install-deps.sh installs it)');
    mkdirSync('/etc/sudoers.d', { recursive: true, mode: 0o755 });
    writeFileSync(SUDOERS, `${USER} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    expect(sh('visudo', ['-cf', SUDOERS]).status).toBe(0);
    const x = runner('ok');
    const run = await runAction(x.env, asUser());
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('the build runs as root through sudo -n');
    const outputs = readOutputFile(readFileSync(x.outputFile, 'utf8'));
    const skopeo = await runAsync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/sudo/app:1`]);
    expect(skopeo.status, skopeo.stderr).toBe(0);
    expect(outputs.digest).toBe((JSON.parse(skopeo.stdout) as { Digest: string }).Digest);
    expect(outputs['cache-hit-ratio']).toBe('0');
    expect(statSync(x.outputFile).uid).toBe(uid);
    // Root built it: the state directory is root's; the action's temp dir was emptied.
    expect(statSync(join(x.dir, 'root')).uid).toBe(0);
    expect(readdirSync(x.env.RUNNER_TEMP!).filter((f) => !f.startsWith('tsbuild-native-'))).toEqual([]);
    expect(run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(SECRET);
    // What the RUN saw: root, and the secret (by its length) through sudo's kept environment.
    const pulled = join(work, 'pulled');
    const copy = await runAsync('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/sudo/app:1`, `oci:${pulled}:app`]);
    expect(copy.status, copy.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(pulled, 'blobs', 'sha256', outputs.digest!.slice('sha256:'.length)), 'utf8')) as { layers: { digest: string }[] };
    const top = join(pulled, 'blobs', 'sha256', manifest.layers[manifest.layers.length - 1]!.digest.slice('sha256:'.length));
    const unpacked = join(work, 'top-layer');
    mkdirSync(unpacked);
    expect(sh('tar', ['-xf', top, '-C', unpacked]).status).toBe(0);
    expect(readFileSync(join(unpacked, 'built-by'), 'utf8')).toBe('0\n');
    expect(readFileSync(join(unpacked, 'token.len'), 'utf8').trim()).toBe(String(SECRET.length));
  });

  it('where sudo asks for a password: one clear error, exit 1, no build', async () => {
    rmSync(SUDOERS, { force: true });
    const x = runner('password');
    const run = await runAction(x.env, asUser());
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('::error title=tsbuild::the build needs root: sudo -n refused to run it: a password is required%0A');
    expect(run.stdout).not.toContain('::group::');
    expect(existsSync(join(x.dir, 'root'))).toBe(false);
    expect(readFileSync(x.outputFile, 'utf8')).toBe('');
  });
});
