/**
 * `--cache-to` and `--cache-from`, read as docker buildx reads them: CSV `key=value` fields
 * with `type=`, or a bare reference meaning `type=registry,ref=REF`. `type=local`,
 * `type=registry`, `type=gha` (cache-gha-options.ts) and `--cache-to type=inline` are carried
 * out so far; the other backends say "not supported yet", each by name. Keys a backend does
 * not take are refused rather than ignored.
 */
import { resolve } from 'node:path';
import { BuildError } from '../errors/index.js';
import {
  asDigest, csvFields, CsvError, formatPlatform, hostPlatform, normalizedReferenceProblem, type CacheExport, type CacheForm, type CacheImport, type InlineCacheExport,
} from '../build/index.js';
import { usageError } from './args.js';
import { GHA_EXPORT_KEYS, GHA_IMPORT_KEYS, parseGhaCacheFrom, parseGhaCacheTo, type GhaDefaults } from './cache-gha-options.js';
import { withCacheMounts } from './cache-mounts-option.js';
import { layerFormat, parseBool } from './outputs.js';

/** Backends buildx knows that tsbuild does not carry out yet. */
const LATER = new Set(['s3', 'azblob']);

const EXPORT_KEYS = ['dest', 'mode', 'tag', 'image-manifest', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'ignore-error', 'mounts'];
const IMPORT_KEYS = ['src', 'tag', 'digest'];
const REGISTRY_EXPORT_KEYS = ['ref', 'mode', 'image-manifest', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'ignore-error', 'mounts'];
const REGISTRY_IMPORT_KEYS = ['ref'];

/** The fields of one value: its type and its other keys (lower-cased, as buildx reads them). */
function fieldsOf(flag: string, value: string): { type: string; kv: Map<string, string> } {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (e) {
    if (e instanceof CsvError) throw usageError(`${flag} ${value}: ${e.message}`);
    throw e;
  }
  let type = '';
  const kv = new Map<string, string>();
  if (fields.length === 1 && !fields[0]!.includes('=')) {
    type = 'registry'; // a bare reference, as buildx reads it
    kv.set('ref', fields[0]!);
  } else {
    for (const field of fields) {
      const eq = field.indexOf('=');
      if (eq < 0) throw usageError(`${flag}: invalid value ${field}`, 'write type=TYPE,KEY=VALUE,…');
      const key = field.slice(0, eq).toLowerCase();
      if (key === 'type') type = field.slice(eq + 1);
      else kv.set(key, field.slice(eq + 1));
    }
  }
  if (type === '') throw usageError(`${flag}: type required for "${value}"`, 'write type=local,…, type=registry,…, type=gha,… or type=inline');
  if (LATER.has(type)) throw new BuildError('NOT_SUPPORTED', `not supported yet: ${flag} type=${type}`, { hint: 'use type=local, type=registry, type=gha or type=inline' });
  // inline is an export only: an image's records are imported with type=registry, as buildx has it.
  if (type === 'inline' && flag === '--cache-from') throw usageError('--cache-from type=inline: import an image\'s inline cache with type=registry,ref=IMAGE (or IMAGE)');
  if (type !== 'local' && type !== 'registry' && type !== 'gha' && type !== 'inline') throw usageError(`${flag}: unknown cache type "${type}"`, 'use type=local, type=registry, type=gha or type=inline');
  return { type, kv };
}

function checkKeys(flag: string, type: string, kv: ReadonlyMap<string, string>, allowed: readonly string[]): void {
  for (const k of kv.keys()) {
    if (!allowed.includes(k)) throw usageError(`${flag} type=${type} does not take "${k}"`, `it takes: ${allowed.join(', ')}`);
  }
}

/** gha defaults when the caller names none: no environment, no target, the host's platform. */
const hostDefaults = (): GhaDefaults => ({ env: {}, target: undefined, platform: formatPlatform(hostPlatform()) });

/** A registry cache's `ref=`, checked as an image reference is (buildx normalizes it alike). */
function registryRef(flag: string, kv: ReadonlyMap<string, string>): string {
  const ref = kv.get('ref');
  if (ref === undefined || ref === '') throw usageError(`${flag} type=registry needs ref=REFERENCE`);
  const problem = normalizedReferenceProblem(ref);
  if (problem !== undefined) throw usageError(`${flag}: invalid reference "${ref}": ${problem}`);
  return ref;
}

/**
 * `image-manifest=` and `oci-mediatypes=`, as BuildKit reads them: an image manifest by
 * default; an index with `image-manifest=false`, a Docker manifest list with
 * `oci-mediatypes=false` too (which alone implies image-manifest=false). An image manifest
 * of Docker media types is refused, as BuildKit refuses it: it could not carry the
 * artifactType that says it is a cache.
 */
function cacheForm(flag: string, kv: ReadonlyMap<string, string>, oci: boolean): CacheForm {
  const imageManifest = parseBool(kv, 'image-manifest', oci);
  if (imageManifest && !oci) {
    throw usageError(`${flag}: image-manifest=true needs oci-mediatypes=true`, 'an image manifest of Docker media types cannot say it is a cache: drop one of the two');
  }
  return imageManifest ? 'manifest' : oci ? 'oci-index' : 'docker-list';
}

/** `--cache-to type=registry,…`. */
function registryCacheTo(kv: ReadonlyMap<string, string>, mode: 'min' | 'max', warnings: string[]): CacheExport {
  const flag = '--cache-to';
  checkKeys(flag, 'registry', kv, REGISTRY_EXPORT_KEYS);
  const ref = registryRef(flag, kv);
  const format = layerFormat(kv, warnings);
  return { type: 'registry', ref, mode, format, form: cacheForm(flag, kv, format.ociMediaTypes), ignoreError: parseBool(kv, 'ignore-error', false) };
}

/**
 * `--cache-to type=inline`: no destination (the image outputs carry it), mode=min only. As
 * BuildKit, which exports its inline cache mode=min whatever `mode=` says, mode=max is not
 * refused; it says so in a warning rather than pass in silence.
 */
function inlineCacheTo(kv: ReadonlyMap<string, string>, warnings: string[]): InlineCacheExport {
  checkKeys('--cache-to', 'inline', kv, ['mode']);
  const mode = kv.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw usageError(`--cache-to: invalid mode "${mode}"`, 'use mode=min or mode=max');
  if (mode === 'max') warnings.push('--cache-to type=inline exports mode=min only (as BuildKit): the image carries the records of its own steps; use type=registry for mode=max');
  return { type: 'inline' };
}

/** One `--cache-to` value; `warnings` receives what an option changed on its own. */
export function parseCacheTo(value: string, warnings: string[] = [], gha?: GhaDefaults): CacheExport | InlineCacheExport {
  const flag = '--cache-to';
  const { type, kv } = fieldsOf(flag, value);
  if (type === 'inline') return inlineCacheTo(kv, warnings);
  if (type === 'gha') {
    checkKeys(flag, type, kv, GHA_EXPORT_KEYS);
    return withCacheMounts(parseGhaCacheTo(kv, gha ?? hostDefaults(), layerFormat(kv, warnings)), kv);
  }
  const mode = kv.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw usageError(`${flag}: invalid mode "${mode}"`, 'use mode=min or mode=max');
  if (type === 'registry') return withCacheMounts(registryCacheTo(kv, mode, warnings), kv);
  checkKeys(flag, type, kv, EXPORT_KEYS);
  const dest = kv.get('dest');
  if (dest === undefined || dest === '') throw usageError(`${flag} type=local needs dest=DIR`);
  const tag = kv.get('tag');
  if (tag === '') throw usageError(`${flag}: tag= is empty`);
  const format = layerFormat(kv, warnings);
  const spec: CacheExport = {
    type: 'local',
    dest: resolve(dest),
    ...(tag === undefined ? {} : { tag }),
    mode,
    format,
    form: cacheForm(flag, kv, format.ociMediaTypes),
    ignoreError: parseBool(kv, 'ignore-error', false),
  };
  return withCacheMounts(spec, kv);
}

/** One `--cache-from` value. */
export function parseCacheFrom(value: string, gha?: GhaDefaults): CacheImport {
  const flag = '--cache-from';
  const { type, kv } = fieldsOf(flag, value);
  if (type === 'gha') {
    checkKeys(flag, type, kv, GHA_IMPORT_KEYS);
    return parseGhaCacheFrom(kv, gha ?? hostDefaults());
  }
  if (type === 'registry') {
    checkKeys(flag, type, kv, REGISTRY_IMPORT_KEYS);
    return { type: 'registry', ref: registryRef(flag, kv) };
  }
  checkKeys(flag, type, kv, IMPORT_KEYS);
  const src = kv.get('src');
  if (src === undefined || src === '') throw usageError(`${flag} type=local needs src=DIR`);
  const tag = kv.get('tag');
  const digest = kv.get('digest');
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) throw usageError(`${flag}: invalid digest "${digest}"`, 'write digest=sha256:<64 hex digits>');
  if (tag === '' && digest === undefined) throw usageError(`${flag} type=local needs a digest=, or a tag= that is not empty`);
  return {
    type: 'local',
    src: resolve(src),
    ...(digest !== undefined ? { digest: asDigest(digest) } : tag === undefined ? {} : { tag }),
  };
}
