/**
 * A snapshot's record (info.json in its directory), written atomically: temp file, fsync,
 * rename. Readers see the old record or the new one, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SnapshotError } from './errors.js';
import type { SnapshotKind } from './types.js';

export const RECORD_FILE = 'info.json';
const RECORD_VERSION = 1;

export interface SnapshotRecord {
  readonly version: typeof RECORD_VERSION;
  readonly kind: SnapshotKind;
  /** Key or name. */
  readonly name: string;
  readonly parent?: string;
  readonly created: string;
  /**
   * Set on an active record just before commit(committing, key) renames its directory: in the
   * directory of `committing`, the record of that committed snapshot (created: the commit).
   */
  readonly committing?: string;
}

// Records are written and read with synchronous calls: every RUN and COPY step writes two and
// reads several, each a few microseconds of system call (a few hundred for the fsync), where a
// round trip through libuv's thread pool would add its own hand-over to every one of them.

function writeDurably(path: string, record: SnapshotRecord): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeFileSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The first record of a directory no reader can see yet (it is published by renaming the
 * directory): written in place, and on disk before that rename. */
export function writeNewRecord(dir: string, record: SnapshotRecord): void {
  writeDurably(join(dir, RECORD_FILE), record);
}

export function writeRecord(dir: string, record: SnapshotRecord): void {
  const final = join(dir, RECORD_FILE);
  const temp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeDurably(temp, record);
    renameSync(temp, final);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** The record in `dir`, or undefined when the directory or its record does not exist. */
export async function readRecord(dir: string): Promise<SnapshotRecord | undefined> {
  let text: string;
  try {
    text = readFileSync(join(dir, RECORD_FILE), 'utf8');
  } catch (e) {
    if (isErrnoCode(e, 'ENOENT') || isErrnoCode(e, 'ENOTDIR')) return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SnapshotError('CORRUPT', `unreadable snapshot record in ${dir}`, { cause: e });
  }
  if (!isRecord(parsed)) throw new SnapshotError('CORRUPT', `invalid snapshot record in ${dir}`);
  return parsed;
}

function isRecord(v: unknown): v is SnapshotRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    r['version'] === RECORD_VERSION &&
    (r['kind'] === 'active' || r['kind'] === 'view' || r['kind'] === 'committed') &&
    typeof r['name'] === 'string' &&
    (r['parent'] === undefined || typeof r['parent'] === 'string') &&
    typeof r['created'] === 'string' &&
    (r['committing'] === undefined || typeof r['committing'] === 'string')
  );
}

export function isErrnoCode(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}
