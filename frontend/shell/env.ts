/**
 * Variable lookup for expansion. Names compare case-sensitively, as BuildKit does on Linux
 * (equal_env_unix.go); tsbuild builds Linux images only.
 */

/** Anything that answers "what is NAME set to?"; a `Map<string, string>` is one. */
export interface EnvLookup {
  get(name: string): string | undefined;
}

/** An `EnvLookup`, or a `KEY=VALUE` list as in an image config (converted on each call). */
export type Env = EnvLookup | readonly string[];

/**
 * A lookup from a `KEY=VALUE` list. A later entry wins over an earlier one, and an entry
 * without `=` sets its key to the empty string (it is set, not unset).
 */
export function envFromList(list: readonly string[]): ReadonlyMap<string, string> {
  const env = new Map<string, string>();
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq < 0) env.set(entry, '');
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

export function toEnvLookup(env: Env): EnvLookup {
  return isList(env) ? envFromList(env) : env;
}

function isList(env: Env): env is readonly string[] {
  return Array.isArray(env);
}
