import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { holdLock, tryLock, withLock } from './lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('locks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs critical sections of one lock one at a time', async () => {
    const path = join(dir, 'serial.lock');
    const events: string[] = [];
    const section = (name: string) =>
      withLock(path, async () => {
        events.push(`${name} in`);
        await sleep(30);
        events.push(`${name} out`);
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]!.endsWith(' in')).toBe(true);
      expect(events[i + 1]).toBe(events[i]!.replace(' in', ' out'));
    }
    expect(events).toHaveLength(6);
  });

  it('tryLock fails while the lock is held and succeeds once it is released', async () => {
    const path = join(dir, 'try.lock');
    const first = await holdLock(path);
    expect(await tryLock(path)).toBeUndefined();
    await first.release();
    const second = await tryLock(path);
    expect(second).toBeDefined();
    await second!.release();
    await second!.release(); // releasing twice is harmless
  });

  it('is the same lock as flock(1) takes, and dies with a killed holder', async () => {
    const path = join(dir, 'process.lock');
    // util-linux's flock holds the lock on the same file in another process (itself alone:
    // --close keeps the descriptor from its command).
    const holder = spawn('flock', ['--exclusive', '--close', path, 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      for (let i = 0; i < 100 && spawnSync('flock', ['--nonblock', path, 'true']).status === 0; i++) await sleep(20);
      expect(await tryLock(path)).toBeUndefined();
      await expect(withLock(path, async () => 'never', { timeoutMs: 100 })).rejects.toMatchObject({ reason: 'LOCKED' });
    } finally {
      const exited = new Promise((r) => holder.once('exit', r));
      process.kill(-holder.pid!, 'SIGKILL');
      await exited;
    }
    // SIGKILL (of flock and its sleep) left nothing to clean up.
    let ours = await tryLock(path);
    for (let i = 0; i < 100 && ours === undefined; i++) {
      await sleep(20);
      ours = await tryLock(path);
    }
    expect(ours).toBeDefined();
    expect(spawnSync('flock', ['--nonblock', path, 'true']).status).not.toBe(0);
    await ours!.release();
    expect(spawnSync('flock', ['--nonblock', path, 'true']).status).toBe(0);
  });

  it('stops waiting when the signal aborts', async () => {
    const path = join(dir, 'abort.lock');
    const held = await holdLock(path);
    const ac = new AbortController();
    const waiting = holdLock(path, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await expect(waiting).rejects.toThrow('stop');
    await held.release();
  });
});
