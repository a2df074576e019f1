/**
 * The `type=gha` fields of `--cache-to` / `--cache-from`: `scope=` (default: the target and the
 * platform, so the jobs of a matrix build never read or overwrite each other's cache), `url=` and
 * `token=` overriding `$ACTIONS_RESULTS_URL` and `$ACTIONS_RUNTIME_TOKEN`, `timeout=` (a Go
 * duration, as buildx: `10m`, `90s`, `1m30s`), and `$ACTIONS_CACHE_MODE`.
 */
import type { GhaCacheExport, GhaCacheImport, LayerFormat } from '../build/index.js';
import { usageError } from './args.js';
import { parseBool } from './outputs.js';

export const GHA_EXPORT_KEYS = ['scope', 'mode', 'url', 'token', 'timeout', 'ignore-error', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'mounts'];
export const GHA_IMPORT_KEYS = ['scope', 'url', 'token', 'timeout'];
/** As BuildKit's gha cache: ten minutes. */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const CACHE_MODES = ['none', 'read', 'write', 'write-only'] as const;

/** What a gha field defaults from: the environment, and the build's target and platform. */
export interface GhaDefaults {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly target: string | undefined;
  /** e.g. `linux/arm64/v8`. */
  readonly platform: string;
}

/** `tsbuild-<target|default>-<os>-<arch>[-<variant>]`. */
export const defaultGhaScope = (d: Pick<GhaDefaults, 'target' | 'platform'>) => `tsbuild-${d.target ?? 'default'}-${d.platform.replaceAll('/', '-')}`;

/** A Go duration (`1h2m3.5s`, `500ms`) in milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    at = re.lastIndex;
  }
  if (text === '' || at !== text.length || total <= 0) throw usageError(`${flag}: invalid timeout "${text}"`, 'write a duration such as 10m, 90s or 1m30s');
  return total;
}

function common(flag: string, kv: ReadonlyMap<string, string>, d: GhaDefaults) {
  const modeText = d.env['ACTIONS_CACHE_MODE'];
  const cacheMode = modeText === undefined || modeText === '' ? undefined : CACHE_MODES.find((m) => m === modeText);
  if (modeText !== undefined && modeText !== '' && cacheMode === undefined) {
    throw usageError(`invalid ACTIONS_CACHE_MODE "${modeText}"`, 'use none, read, write or write-only');
  }
  const url = kv.get('url') ?? d.env['ACTIONS_RESULTS_URL'] ?? '';
  const token = kv.get('token') ?? d.env['ACTIONS_RUNTIME_TOKEN'] ?? '';
  if (cacheMode !== 'none') {
    if (url === '') throw usageError(`${flag} type=gha needs url= or $ACTIONS_RESULTS_URL`, 'the runner sets it for actions; a run: step needs it passed on');
    if (token === '') throw usageError(`${flag} type=gha needs token= or $ACTIONS_RUNTIME_TOKEN`);
    try {
      new URL(url);
    } catch {
      throw usageError(`${flag} type=gha: invalid url "${url}"`);
    }
  }
  const scope = kv.get('scope') ?? defaultGhaScope(d);
  if (scope === '') throw usageError(`${flag}: scope= is empty`);
  // The service takes keys of up to 512 characters; the index key adds ~40 to the scope.
  if (encodeURIComponent(scope).length > 400) throw usageError(`${flag}: scope= is too long`, 'keep it under 400 characters');
  const timeout = kv.get('timeout');
  return {
    scope,
    endpoint: { url, token, timeoutMs: timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(flag, timeout) },
    ...(cacheMode === undefined ? {} : { cacheMode }),
  };
}

export function parseGhaCacheTo(kv: ReadonlyMap<string, string>, d: GhaDefaults, format: LayerFormat): GhaCacheExport {
  const flag = '--cache-to';
  const mode = kv.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw usageError(`${flag}: invalid mode "${mode}"`, 'use mode=min or mode=max');
  return { type: 'gha', ...common(flag, kv, d), mode, format, ignoreError: parseBool(kv, 'ignore-error', false) };
}

export function parseGhaCacheFrom(kv: ReadonlyMap<string, string>, d: GhaDefaults): GhaCacheImport {
  return { type: 'gha', ...common('--cache-from', kv, d) };
}
