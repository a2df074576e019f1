/**
 * Leases: what a running build holds, so that a concurrent prune leaves it alone. One JSON
 * file per lease, `<dir>/<pid>-<random>.json`, naming the owner pid, blobs and snapshots;
 * rewritten atomically as the build adds to it. There is no daemon to hold leases in memory:
 * a lease whose pid is gone is stale and no longer protects anything.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../oci/index.js';
import { errnoCode } from './errors.js';
import { isPidAlive, writeFileAtomic } from './fsutil.js';

export interface LeaseContent {
  readonly blobs?: readonly Digest[];
  /** Snapshot names, opaque here (the snapshotter's). */
  readonly snapshots?: readonly string[];
}

export interface Lease {
  readonly id: string;
  /** Adds to what the lease holds; durable when the promise resolves. */
  add(content: LeaseContent): Promise<void>;
  /** Drops the lease file; what it held may then be pruned. */
  release(): Promise<void>;
}

interface LeaseFile {
  readonly pid: number;
  readonly createdAt: string;
  readonly blobs: readonly string[];
  readonly snapshots: readonly string[];
}

export async function createLease(dir: string, content: LeaseContent = {}): Promise<Lease> {
  mkdirSync(dir, { recursive: true });
  const id = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const path = join(dir, `${id}.json`);
  const blobs = new Set<string>(content.blobs ?? []);
  const snapshots = new Set<string>(content.snapshots ?? []);
  const createdAt = new Date().toISOString();
  const save = (): Promise<void> => {
    const file: LeaseFile = { pid: process.pid, createdAt, blobs: [...blobs], snapshots: [...snapshots] };
    // Not synced: a lease protects what a live process uses, and no process outlives a crash.
    return writeFileAtomic(path, JSON.stringify(file), 0o644, false);
  };
  await save();
  let chain = Promise.resolve();
  return {
    id,
    add(more: LeaseContent): Promise<void> {
      for (const b of more.blobs ?? []) blobs.add(b);
      for (const s of more.snapshots ?? []) snapshots.add(s);
      chain = chain.then(save, save); // serialise rewrites so the last one carries everything
      return chain;
    },
    async release(): Promise<void> {
      await chain.catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}

export interface LiveLeases {
  readonly blobs: ReadonlySet<Digest>;
  readonly snapshots: ReadonlySet<string>;
  /** Lease ids whose owner is gone (removed when `removeStale` was set). */
  readonly stale: readonly string[];
}

/** Everything held by leases of live processes; a missing directory holds nothing. */
export async function readLiveLeases(dir: string, options: { removeStale?: boolean } = {}): Promise<LiveLeases> {
  const blobs = new Set<Digest>();
  const snapshots = new Set<string>();
  const stale: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { blobs, snapshots, stale };
    throw e;
  }
  for (const name of names) {
    const m = /^((\d+)-[0-9a-f]+)\.json$/.exec(name);
    if (!m) continue;
    const id = m[1]!;
    if (!isPidAlive(Number(m[2]))) {
      stale.push(id);
      if (options.removeStale) await rm(join(dir, name), { force: true });
      continue;
    }
    let file: LeaseFile;
    try {
      file = JSON.parse(await readFile(join(dir, name), 'utf8')) as LeaseFile;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue; // released meanwhile
      throw e;
    }
    for (const b of file.blobs) if (isDigest(b)) blobs.add(b);
    for (const s of file.snapshots) snapshots.add(s);
  }
  return { blobs, snapshots, stale };
}
