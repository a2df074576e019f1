/** An op's spec as the named text fields of its key's explanation (CacheMap.explain). */
import { canonicalJSON } from '../core/index.js';

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
    fields[`env:${eq < 0 ? entry : entry.slice(0, eq)}`] = eq < 0 ? '' : entry.slice(eq + 1);
  }
  return fields;
}
