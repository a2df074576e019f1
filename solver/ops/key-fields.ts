/** An op's spec as the named text fields of its key's explanation (CacheMap.explain). */
import { canonicalJSON, shortDigest } from '../core/index.js';

/**
 * Variables whose names say they hold a secret (the names BuildKit's SecretsUsedInArgOrEnv
 * check warns about): their values go into a record as a digest only, never as text, since a
 * cache may be pushed where anyone reads it. The digest tells a change apart and says no more
 * than the cache key, which hashes the value too.
 */
const SECRET_NAME = /(?:_|^)(?:apikey|auth|credentials?|key|password|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:_|^)(?:public|file|version)(?:_|$)/i;

/** Whether a variable's value is kept out of a record's text. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET.test(name);
}

/** Each member of `spec` that is set, as text (strings as they are, anything else as canonical JSON). */
export function specFields(spec: Readonly<Record<string, unknown>>, leave: readonly string[] = ['kind']): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec)) {
    if (value === undefined || leave.includes(name)) continue;
    fields[name] = typeof value === 'string' ? value : canonicalJSON(value);
  }
  return fields;
}

/** A RUN's environment as `env:NAME` fields (a later entry of a name wins, as in the process). */
export function envFields(env: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    fields[`env:${name}`] = isSecretName(name) ? `<hidden, sha256 ${shortDigest(value)}>` : value;
  }
  return fields;
}
