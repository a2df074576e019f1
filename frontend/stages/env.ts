/** Ordered KEY=VALUE lists with the replace-in-place rule image configs use. */
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

/** Build args every build understands without an ARG: proxies never reach the image. */
export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];
