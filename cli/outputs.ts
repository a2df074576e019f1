/**
 * `--output` / `-t` / `--push` resolved once, up front (unknown keys are refused), into the
 * outputs build/ exports at the end of the solve; and the metadata file's text.
 */
import { resolve } from 'node:path';
import { BuildError, isBuildError } from '../errors/index.js';
import {
  DEFAULT_LAYER_FORMAT,
  normalizedReferenceProblem,
  parseImageName,
  parseReference,
  referenceProblem,
  type Compression,
  type LayerFormat,
  type Output,
  type Written,
} from '../build/index.js';
import { usageError } from './args.js';

export type { Output } from '../build/index.js';

const FORMAT_KEYS = ['compression', 'compression-level', 'force-compression', 'oci-mediatypes'];
const KEYS: Record<string, readonly string[]> = {
  image: ['type', 'name', 'push', ...FORMAT_KEYS],
  oci: ['type', 'dest', 'tar', 'name', ...FORMAT_KEYS],
  docker: ['type', 'dest', 'name', ...FORMAT_KEYS],
  local: ['type', 'dest'],
  tar: ['type', 'dest'],
  registry: ['type', 'name', ...FORMAT_KEYS],
};

const LEVELS: Record<Compression, [number, number] | undefined> = { gzip: [0, 9], zstd: [1, 22], uncompressed: undefined };

export function parseBool(kv: ReadonlyMap<string, string>, key: string, fallback: boolean): boolean {
  const v = kv.get(key);
  if (v === undefined) return fallback;
  // A bare key (`force-compression`) means true, as with buildx.
  if (v === '' || v === 'true') return true;
  if (v === 'false') return false;
  throw usageError(`${key}=${v}: use true or false`);
}

/**
 * The layer format an output asks for. As with current BuildKit (compatibility version 0.31),
 * OCI media types are the default for every output, type=docker included; zstd turns them on
 * (Docker media types cannot name zstd layers).
 */
export function layerFormat(kv: ReadonlyMap<string, string>, warnings: string[]): LayerFormat {
  const compression = kv.get('compression') ?? 'gzip';
  if (compression === 'estargz') throw new BuildError('NOT_SUPPORTED', 'not supported yet: compression=estargz', { hint: 'use gzip, zstd or uncompressed' });
  if (compression !== 'gzip' && compression !== 'zstd' && compression !== 'uncompressed') {
    throw usageError(`unknown compression "${compression}"`, 'use gzip, zstd or uncompressed');
  }
  let ociMediaTypes = parseBool(kv, 'oci-mediatypes', true);
  if (compression === 'zstd' && !ociMediaTypes) {
    warnings.push('compression=zstd needs OCI media types: oci-mediatypes=true is used');
    ociMediaTypes = true;
  }
  const format: { -readonly [K in keyof LayerFormat]: LayerFormat[K] } = { compression, ociMediaTypes, force: parseBool(kv, 'force-compression', false) };
  const level = kv.get('compression-level');
  if (level !== undefined) {
    const range = LEVELS[compression];
    if (range === undefined) throw usageError('compression-level does not apply to uncompressed layers');
    const n = Number(level);
    if (!/^\d+$/.test(level) || n < range[0] || n > range[1]) {
      throw usageError(`compression-level=${level} is out of range for ${compression}`, `use ${range[0]}..${range[1]}`);
    }
    format.level = n;
  }
  return format;
}

function parseCsv(spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    out.set(k, eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

/**
 * `-o` values, `-t` names and `--push` into the list of outputs to write; `warnings` receives
 * what an option changed on its own.
 */
export function resolveOutputs(specs: readonly string[], tags: readonly string[], push: boolean, warnings: string[] = []): Output[] {
  for (const tag of tags) {
    // As buildx: every -t is a reference before anything starts.
    const problem = referenceProblem(tag);
    if (problem !== undefined) throw usageError(`invalid tag ${JSON.stringify(tag)}: ${problem}`, 'write [REGISTRY/]NAME[:TAG] with a lower-case name');
  }
  let outputs: Output[] = [];
  for (const spec of specs) {
    // `-o DIR` is `type=local,dest=DIR`, `-o -` a tar on stdout (not supported), as with buildx.
    const kv = spec.includes('=') ? parseCsv(spec) : new Map([['type', 'local'], ['dest', spec]]);
    const type = kv.get('type') ?? 'local';
    const allowed = KEYS[type];
    if (allowed === undefined) throw usageError(`unknown output type "${type}"`, 'use type=image, oci, docker, local or tar');
    for (const k of kv.keys()) {
      if (!allowed.includes(k)) throw usageError(`output type=${type} does not take "${k}"`, `it takes: ${allowed.join(', ')}`);
    }
    if (kv.has('push') && kv.get('push') !== 'true' && kv.get('push') !== 'false') throw usageError(`push=${kv.get('push')}: use true or false`);
    const format = layerFormat(kv, warnings);
    if (type === 'image' && kv.get('push') !== 'true' && FORMAT_KEYS.some((k) => kv.has(k))) {
      throw usageError(`output type=image takes ${FORMAT_KEYS.join(', ')} only with push=true`, 'the local image store keeps layers uncompressed, as snapshots');
    }
    const given = kv.get('name')?.split(/[,\s]+/).filter((n) => n !== '') ?? [];
    for (const name of given) {
      // As BuildKit's exporters read name=: Docker's normalised names.
      const problem = normalizedReferenceProblem(name);
      if (problem !== undefined) throw usageError(`failed to parse ${name}: ${problem}`, 'write [REGISTRY/]NAME[:TAG] with a lower-case name');
    }
    const names = [...given, ...(type === 'image' || type === 'registry' ? [] : tags)];
    const dest = kv.get('dest');
    if (type !== 'image' && type !== 'registry' && (dest === undefined || dest === '')) throw usageError(`output type=${type} needs dest=PATH`);
    if (dest === '-') throw new BuildError('NOT_SUPPORTED', 'not supported yet: writing an output to stdout (dest=-)');
    switch (type) {
      case 'image':
        outputs.push({ type: 'image', names: names.length > 0 ? names : tags, ...(kv.get('push') === 'true' ? { push: format } : {}) });
        break;
      case 'registry':
        if (names.length === 0 && tags.length === 0) throw usageError('output type=registry needs name=REF (or -t NAME)');
        outputs.push({ type: 'registry', names: names.length > 0 ? names : tags, format });
        break;
      case 'oci':
        outputs.push({ type: 'oci', dest: resolve(dest!), tar: kv.get('tar') !== 'false', names, format });
        break;
      case 'docker':
        outputs.push({ type: 'docker', dest: resolve(dest!), names, format });
        break;
      case 'local':
        outputs.push({ type: 'local', dest: resolve(dest!) });
        break;
      case 'tar':
        outputs.push({ type: 'tar', dest: resolve(dest!) });
        break;
    }
  }
  if (push) {
    // As with buildx: --push makes the image outputs push, or adds `type=image,push=true`.
    if (outputs.some((o) => o.type === 'image')) {
      outputs = outputs.map((o) => (o.type === 'image' ? { ...o, push: o.push ?? DEFAULT_LAYER_FORMAT } : o));
    } else {
      outputs.push({ type: 'image', names: tags, push: DEFAULT_LAYER_FORMAT });
    }
  } else if (specs.length === 0 && tags.length > 0) {
    outputs.push({ type: 'image', names: tags });
  }
  if (outputs.some((o) => o.type === 'image' && o.push !== undefined && o.names.length === 0)) {
    throw usageError('pushing needs a name: give -t NAME (or name=REF)');
  }
  for (const o of outputs) {
    // What the store or a registry will be asked to take, asked now rather than after the steps.
    if (o.type === 'image') for (const n of o.names) asUsage(() => parseImageName(n));
    if ((o.type === 'image' && o.push !== undefined) || o.type === 'registry') for (const n of o.names) asUsage(() => parseReference(n));
  }
  return outputs;
}

function asUsage(check: () => unknown): void {
  try {
    check();
  } catch (e) {
    if (isBuildError(e) && e.code === 'BAD_REFERENCE') throw usageError(e.message, e.hint);
    throw e;
  }
}

/** `--iidfile` with these outputs: buildx refuses it up front for rootfs outputs, as here (and without any image output). */
export function checkIidFileOutputs(outputs: readonly Output[]): void {
  if (outputs.some((o) => o.type === 'local' || o.type === 'tar')) throw usageError('local and tar outputs are incompatible with --iidfile');
  if (outputs.length === 0) throw usageError('--iidfile needs an image output (-t NAME, or -o type=image|oci|docker|registry)');
}

/**
 * The metadata file as buildx writes it: the response's keys in sorted order, the descriptor
 * decoded into a JSON object, two-space indents, no final newline.
 */
export function metadataJson(written: Written): string {
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(written.response).sort()) {
    const value = written.response[key]!;
    meta[key] = key === 'containerimage.descriptor' ? JSON.parse(Buffer.from(value, 'base64').toString('utf8')) : value;
  }
  return JSON.stringify(meta, null, 2);
}

