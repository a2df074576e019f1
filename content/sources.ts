/**
 * The record of where blobs live in registries: one small JSON file per blob,
 * `<root>/sources/<algorithm>/<hex>.json`, `{ "HOST": ["REPO", …] }`, latest first, replaced
 * atomically. Two processes recording the same blob at once may lose one entry; that is
 * acceptable for a hint (see BlobSources).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestAlgorithm, digestHex, type Digest } from '../oci/index.js';
import { errnoCode } from './errors.js';
import { writeFileAtomic } from './fsutil.js';

/** Repositories kept per registry and blob: enough to find a mount source, never a growing file. */
const KEEP = 8;

type Record = Partial<{ [domain: string]: string[] }>;

export function sourcesPath(root: string, digest: Digest): string {
  return join(root, 'sources', digestAlgorithm(digest), `${digestHex(digest)}.json`);
}

async function readRecord(path: string): Promise<Record> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record) : {};
  } catch (e) {
    // Absent, or torn by something other than us: either way nothing is known.
    if (errnoCode(e) === 'ENOENT' || e instanceof SyntaxError) return {};
    throw e;
  }
}

export async function sourcesOf(root: string, digest: Digest, domain: string): Promise<readonly string[]> {
  const repos = (await readRecord(sourcesPath(root, digest)))[domain];
  return Array.isArray(repos) ? repos.filter((r): r is string => typeof r === 'string') : [];
}

export async function recordSource(root: string, digest: Digest, domain: string, repository: string): Promise<void> {
  const path = sourcesPath(root, digest);
  const record = await readRecord(path);
  const known = record[domain] ?? [];
  if (known[0] === repository) return; // already the latest: no write
  record[domain] = [repository, ...known.filter((r) => r !== repository)].slice(0, KEEP);
  await writeFileAtomic(path, JSON.stringify(record));
}

export async function forgetSources(root: string, digest: Digest): Promise<void> {
  await rm(sourcesPath(root, digest), { force: true });
}
