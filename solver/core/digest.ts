/** Digests and the canonical encoding that makes them stable. */
import { createHash } from 'node:crypto';
import type { Digest } from '../../oci/index.js';

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/**
 * JSON with object keys sorted at every level and no undefined members, so that equal values
 * always encode to equal bytes.
 */
export function canonicalJSON(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return '[' + value.map(canonicalJSON).join(',') + ']';
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJSON(v)).join(',') + '}';
}

export function digestOf(value: unknown): Digest {
  return sha256(canonicalJSON(value));
}
