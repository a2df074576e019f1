import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../errors/index.js';
import { NetworkPool } from './network.js';
import { isCI, isRoot } from '../test/support/env.js';

/** The holder's pid, from the /proc/PID/ns/net a lease names. */
const holderPid = (netns: string) => Number(/^\/proc\/(\d+)\/ns\/net$/.exec(netns)![1]);

/** This process's children that are still running (not zombies), by command name. */
function runningChildren(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat)!;
      const [state, ppid] = rest!.split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') out.push(comm!);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(!isRoot && !isCI)('NetworkPool', () => {
  it('makes a namespace apart from the host\'s once, and hands it to the next step', async () => {
    const pool = new NetworkPool();
    try {
      const first = await pool.acquire();
      const inode = readlinkSync(first.netns);
      expect(inode).toMatch(/^net:\[\d+\]$/);
      expect(inode).not.toBe(readlinkSync('/proc/self/ns/net'));
      first.release();
      first.release(); // a second release changes nothing
      const second = await pool.acquire();
      expect(second.netns).toBe(first.netns);
      expect(second.dns).toBe('10.0.2.3');
      second.release();
    } finally {
      await pool.close();
    }
  });

  it('gives steps running at the same time a namespace each, and close() ends every holder', async () => {
    const pool = new NetworkPool();
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(readlinkSync(a!.netns)).not.toBe(readlinkSync(b!.netns));
    await pool.close();
    expect(existsSync(`/proc/${holderPid(a!.netns)}`)).toBe(false);
    expect(existsSync(`/proc/${holderPid(b!.netns)}`)).toBe(false);
    await expect(pool.acquire()).rejects.toThrow('closed');
  });

  it('says what to install when slirp4netns is missing, and leaves no holder behind', async () => {
    const pool = new NetworkPool();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const e = await pool.acquire().then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(BuildError);
      expect((e as BuildError).code).toBe('NETWORK_FAILED');
      expect((e as BuildError).message).toBe("RUN's default network needs slirp4netns, which is not installed");
      expect((e as BuildError).hint).toContain('apt-get install slirp4netns');
    } finally {
      process.env.PATH = path;
      await pool.close();
    }
    expect(runningChildren()).toEqual([]);
  });
});
