import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunMount } from '../../frontend/instructions/index.js';
import { openState } from '../../build/state.js';
import { fileLocks } from '../../build/file-locks.js';
import type { ExecMount } from '../core/index.js';
import { mountTarget, secretId, StepMounts, type StepMountDeps } from './exec-mounts.js';

const mount = (spec: string) => parseRunMount(spec);

describe('mount targets and secret ids, as BuildKit resolves them', () => {
  it('names a secret by id, else source, else the base name of its target', () => {
    expect(secretId(mount('type=secret,id=npm') as never)).toBe('npm');
    expect(secretId(mount('type=secret,src=npm') as never)).toBe('npm');
    expect(secretId(mount('type=secret,target=/root/.npmrc') as never)).toBe('.npmrc');
  });

  it('puts secrets under /run/secrets and agents at /run/buildkit/ssh_agent.N by default', () => {
    expect(mountTarget(mount('type=secret,id=a/b'), '/w', 0)).toBe('/run/secrets/b');
    expect(mountTarget(mount('type=secret,id=a,env=A'), '/w', 0)).toBeUndefined();
    expect(mountTarget(mount('type=secret,id=a,env=A,target=f'), '/w', 0)).toBe('/w/f');
    expect(mountTarget(mount('type=ssh'), '/w', 0)).toBe('/run/buildkit/ssh_agent.0');
    expect(mountTarget(mount('type=ssh,id=x'), '/w', 2)).toBe('/run/buildkit/ssh_agent.2');
    expect(mountTarget(mount('type=ssh,target=/s//a/'), '/w', 0)).toBe('/s/a');
    expect(mountTarget(mount('type=cache,target=c'), '/w', 0)).toBe('/w/c');
    expect(mountTarget(mount('type=cache,target=../c/./d'), '/w/x', 0)).toBe('/w/c/d');
  });
});

describe('cache mount sharing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-cache-sharing-'));
  let env: StepMountDeps;
  beforeAll(async () => {
    env = {
      store: await openState(join(dir, 'root')),
      locks: fileLocks,
      local: () => {
        throw new Error('no local directory expected');
      },
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const planned = (spec: string): ExecMount => ({ mount: mount(spec), source: { kind: 'none' } });
  const noSource = () => {
    throw new Error('no mount input expected');
  };
  async function open(spec: string): Promise<{ dir: string; m: StepMounts }> {
    const m = new StepMounts(env, '/', new AbortController().signal);
    await m.add(planned(spec), noSource);
    const first = m.mounts[0]!;
    if (first.type !== 'bind') throw new Error('a cache mount is a bind mount');
    return { dir: first.source, m };
  }

  it('shared: every step gets the same directory', async () => {
    const a = await open('type=cache,id=s,target=/c');
    const b = await open('type=cache,id=s,target=/c');
    expect(b.dir).toBe(a.dir);
    await a.m.release();
    await b.m.release();
  });

  it('private: a step gets a directory nobody holds, and a free one is used again', async () => {
    const a = await open('type=cache,id=p,target=/c,sharing=private');
    const b = await open('type=cache,id=p,target=/c,sharing=private');
    expect(b.dir).not.toBe(a.dir);
    await a.m.release();
    const c = await open('type=cache,id=p,target=/c,sharing=private');
    expect(c.dir).toBe(a.dir);
    await b.m.release();
    await c.m.release();
  });

  it('locked: a step waits until the holder is done', async () => {
    const order: string[] = [];
    const a = await open('type=cache,id=l,target=/c,sharing=locked');
    const b = open('type=cache,id=l,target=/c,sharing=locked').then((r) => {
      order.push('second got it');
      return r;
    });
    // Give a lock that does not hold every chance to let the second step in early.
    await new Promise((r) => setTimeout(r, 300));
    order.push('first releases');
    await a.m.release();
    const second = await b;
    expect(order).toEqual(['first releases', 'second got it']);
    expect(second.dir).toBe(a.dir);
    await second.m.release();
  });
});
