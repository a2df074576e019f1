/** Ordered KEY=VALUE lists with the replace-in-place rule image configs use. */
import { sortByBytes } from '../instructions/index.js';
import type { EnvLookup } from '../shell/index.js';

export function splitEnv(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** Set `key` in an env list: replaced where it stands, else appended. */
export function setEnv(list: readonly string[], key: string, value: string): string[] {
  const out = [...list];
  const i = out.findIndex((e) => splitEnv(e)[0] === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/**
 * Set `key` in a step's environment: the key moves to the end, as in BuildKit's LLB state,
 * whose environment lists keys in the order they were last set (the image config's Env, by
 * contrast, replaces in place: setEnv).
 */
export function setEnvLast(list: readonly string[], key: string, value: string): string[] {
  return [...list.filter((e) => splitEnv(e)[0] !== key), `${key}=${value}`];
}

/** A lookup over an env list (the last entry of a key wins). */
export function lookupOf(list: readonly string[]): EnvLookup & { keys(): string[] } {
  const map = new Map<string, string>();
  for (const e of list) {
    const [k, v] = splitEnv(e);
    map.set(k, v);
  }
  return { get: (k) => map.get(k), keys: () => [...map.keys()] };
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** The proxy variables every build understands without an ARG, in the order RUN sees them. */
const PROXY_NAMES = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'all_proxy'] as const;

/** A build arg that names a proxy, in any letter case (`HTTP_PROXY`, `http_proxy`, `Http_Proxy`). */
export function isProxyArg(key: string): boolean {
  return (PROXY_NAMES as readonly string[]).includes(key.toLowerCase());
}

/**
 * RUN's proxy variables from the build args, as BuildKit sets them: each proxy arg, whatever
 * its letter case, gives both `HTTP_PROXY=v` and `http_proxy=v`; of two spellings of one proxy
 * the last in byte order of the names wins (`http_proxy` over `HTTP_PROXY`); empty values set
 * nothing.
 */
export function proxyEnvOf(buildArgs: ReadonlyMap<string, string>): string[] {
  const values = new Map<string, string>();
  for (const k of sortByBytes([...buildArgs.keys()])) {
    if (isProxyArg(k)) values.set(k.toLowerCase(), buildArgs.get(k)!);
  }
  return PROXY_NAMES.flatMap((name) => {
    const v = values.get(name);
    return v === undefined || v === '' ? [] : [`${name.toUpperCase()}=${v}`, `${name}=${v}`];
  });
}

/** ARGs that never enter RUN's environment (BuildKit's SBOM scan switches). */
export const NON_ENV_ARGS: ReadonlySet<string> = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);
