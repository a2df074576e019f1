// SIGTERM and SIGINT end a build whatever it is doing, with exit status 130 (as buildx ends a
// canceled build), and leave nothing behind: no RUN process, no mount, no scratch directory
// in the state, no image, output, --iidfile or --metadata-file, no temp file beside them;
// the next build on the same state works. The bound waited for is generous on purpose: tests
// assert that the build ended, never how fast (bench/ measures).
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder, tsbuildAsync, tsbuildSync, type Run } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-interrupt-'));
const root = join(work, 'root');
const outDir = join(work, 'out');
const build = (extra: string[], dir: string) => tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);

/** A RUN that sleeps this long is this test's own: no other test's process looks like it. */
const SLEEP = '3607';

/** Processes whose command line is `sleep SLEEP`: the RUN steps this file started. */
function sleepers(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1') === `sleep\0${SLEEP}\0`) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Starts a build, waits until `ready` shows in its output, sends `sig`, and waits (≤ 20 s) for the end. */
async function interrupt(args: string[], sig: NodeJS.Signals, ready: RegExp | number): Promise<Run> {
  const { child, done } = tsbuildAsync(['build', '--root', root, '--progress', 'plain', ...args]);
  let seen = '';
  child.stderr!.on('data', (d: Buffer) => (seen += d.toString()));
  const deadline = Date.now() + 60_000;
  if (typeof ready === 'number') await new Promise((r) => setTimeout(r, ready));
  else while (!ready.test(seen) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  expect(child.exitCode, `the build ended before it could be interrupted:\n${seen}`).toBeNull();
  child.kill(sig);
  const timeout = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref());
  const ended = await Promise.race([done, timeout]);
  if (ended === 'hung') {
    child.kill('SIGKILL');
    throw new Error(`the build did not end within 20 s of ${sig}:\n${seen}`);
  }
  return ended;
}

/** Nothing of an interrupted build may stay on the host or in the state. */
function expectNothingLeft(): void {
  expect(sleepers()).toEqual([]);
  expect(mountsUnder(work)).toEqual([]);
  // Scratch directories of processes that are gone are swept by the next open; a cleanly
  // interrupted build removes its own at once.
  expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  expect(existsSync(outDir)).toBe(false);
  expect(readdirSync(work).filter((n) => n.startsWith('.') || /iid|meta|out/.test(n))).toEqual([]);
}

describe.skipIf(!isRoot && !isCI)('interrupting a build', () => {
  let app: string;
  beforeAll(async () => {
    expectOk(build(['-t', 'busybox:test'], await busyboxBaseContext(join(work, 'base'))));
    app = writeContext(join(work, 'app'), {
      Dockerfile: `FROM busybox:test\nARG D=${SLEEP}\nRUN echo step-started && sleep $D && echo slept > /slept\n`,
    });
  });
  afterAll(() => {
    for (const pid of sleepers()) process.kill(Number(pid), 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  const images = () => tsbuildSync(['images', '--root', root]).stdout;

  it.each(['SIGTERM', 'SIGINT'] as const)('%s during a RUN ends the build with 130, its RUN process gone and nothing written', async (sig) => {
    const r = await interrupt(['-t', 'interrupted:1', '--iidfile', join(work, 'iid'), '--metadata-file', join(work, 'meta.json'), app], sig, /step-started/);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toContain(`error: the build was interrupted (${sig})`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expectNothingLeft();
    expect(images()).not.toContain('interrupted');
  });

  it('SIGTERM in a build with a tar output and --metadata-file leaves no partial file at their paths', async () => {
    const r = await interrupt(['-o', `type=tar,dest=${join(outDir, 'rootfs.tar')}`, '--metadata-file', join(work, 'meta.json'), app], 'SIGTERM', /step-started/);
    expect(r.status, r.stderr).toBe(130);
    expectNothingLeft();
  });

  it('SIGTERM while a large context is hashed ends the build too', async () => {
    // A sparse file of 8 GiB: seconds of hashing, no disk. A bind mount of the context keys the
    // step on its content and copies nothing.
    const big = writeContext(join(work, 'big'), { Dockerfile: 'FROM busybox:test\nRUN --mount=type=bind,target=/ctx ls -l /ctx > /listing\n' });
    const fd = openSync(join(big, 'huge.bin'), 'w');
    ftruncateSync(fd, 8 * 1024 ** 3);
    closeSync(fd);
    const r = await interrupt(['-o', `type=local,dest=${outDir}`, big], 'SIGTERM', 1500);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toContain('the build was interrupted (SIGTERM)');
    expectNothingLeft();
    rmSync(big, { recursive: true, force: true });
  });

  it('leaves a state the next build uses as it is', () => {
    const out = join(work, 'next-out');
    expectOk(build(['--build-arg', 'D=0', '-t', 'after:1', '-o', `type=local,dest=${out}`], app));
    expect(readFileSync(join(out, 'slept'), 'utf8')).toBe('slept\n');
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    rmSync(out, { recursive: true, force: true });
  });
});
