/**
 * `--output` / `-t` / `--push` resolved once, up front (unknown keys are refused), and the
 * writing of each output from a built image.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic, type Descriptor } from '../content/index.js';
import { BuildError, isBuildError } from '../errors/index.js';
import {
  assembleImage,
  DEFAULT_LAYER_FORMAT,
  exportDescriptor,
  exportLayer,
  exportNames,
  writeDockerArchive,
  writeOciLayout,
  writeRootfsDir,
  writeRootfsTar,
  type ExportImage,
  type LayerFormat,
} from '../exporter/index.js';
import { descriptorObject, goJson, type Compression, type Platform } from '../oci/index.js';
import { diffTar, fileXattrs } from '../snapshotter/index.js';
import { parseReference, pushBlobsOf, pushImage } from '../registry/index.js';
import {
  normalizedReferenceProblem, openSnapshotTar, parseImageName, referenceProblem, registerLayers,
  type BuiltImage, type ImageBlobs, type RegistryAccess, type State,
} from '../build/index.js';
import { usageError } from './args.js';
import { pushOptionsFor } from './registry-options.js';

export type Output =
  /** Into the local store; with `push`, pushed to the names' registries too (in that layer format). */
  | { readonly type: 'image'; readonly names: readonly string[]; readonly push?: LayerFormat }
  | { readonly type: 'oci'; readonly dest: string; readonly tar: boolean; readonly names: readonly string[]; readonly format: LayerFormat }
  | { readonly type: 'docker'; readonly dest: string; readonly names: readonly string[]; readonly format: LayerFormat }
  | { readonly type: 'local'; readonly dest: string }
  | { readonly type: 'tar'; readonly dest: string }
  | { readonly type: 'registry'; readonly names: readonly string[]; readonly format: LayerFormat };

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

function parseBool(kv: ReadonlyMap<string, string>, key: string, fallback: boolean): boolean {
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

/**
 * What the outputs report, in BuildKit's exporter-response keys: `containerimage.digest` (the
 * manifest written or pushed), `containerimage.config.digest` (the image ID),
 * `containerimage.descriptor` (the manifest's descriptor, base64 of its JSON) and `image.name`
 * (the names, comma-separated). As BuildKit merges the responses of several exporters, a later
 * output's value of a key replaces an earlier one's.
 */
export type ExporterResponse = Readonly<Record<string, string>>;

export interface Written {
  readonly response: ExporterResponse;
}

/** Write every output; images are assembled once per layer format (uncompressed for the store). */
export async function writeOutputs(state: State, image: BuiltImage, outputs: readonly Output[], access: RegistryAccess, signal?: AbortSignal): Promise<Written> {
  // As BuildKit: the image is as old as its last history entry, so a cached rebuild is the
  // same image.
  const last = [...image.history].reverse().find((h) => h.created !== undefined)?.created;
  const created = last === undefined ? new Date() : new Date(last);
  const base = { config: image.config, ...(image.author === undefined ? {} : { author: image.author }), platform: image.platform, history: image.history, created };
  let local: ImageBlobs | undefined;
  // One assembled image per layer format: several outputs of one format share it.
  const archived = new Map<string, ImageBlobs>();
  const response: Record<string, string> = {};
  const platform: Platform = {
    architecture: image.platform.architecture,
    os: image.platform.os,
    ...(image.platform.variant === undefined || image.platform.variant === '' ? {} : { variant: image.platform.variant }),
  };
  const report = (blobs: ImageBlobs, desc: Descriptor, names: readonly string[]) => {
    response['containerimage.digest'] = blobs.manifest.digest;
    response['containerimage.config.digest'] = blobs.config.digest;
    response['containerimage.descriptor'] = Buffer.from(goJson(descriptorObject(desc))).toString('base64');
    if (names.length > 0) response['image.name'] = names.join(',');
  };
  // The image exporter's descriptor: the manifest and its platform.
  const imageDescriptor = (blobs: ImageBlobs): Descriptor => ({ ...blobs.manifest, platform });
  const snapshotOf = new Map(image.layers.map((l) => [l.diffId as string, l.snapshot]));
  const openTar = (diffId: string) => openSnapshotTar(state, snapshotOf.get(diffId)!);

  const forStore = async () => {
    // The local store keeps layers as the snapshots themselves: no compression, no copy.
    local ??= await assembleImage(state.content, {
      ...base,
      layers: image.layers.map((l) => ({
        diffId: l.diffId,
        blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.diffId, size: l.size },
      })),
    });
    return local;
  };
  const forArchive = async (format: LayerFormat) => {
    const key = JSON.stringify(format);
    let blobs = archived.get(key);
    if (blobs === undefined) {
      const layers = await Promise.all(
        image.layers.map(async (l) => exportLayer(state.content, l.diffId, format, async () => diffTar(await state.snapshots.upperDir(l.snapshot)))),
      );
      blobs = await assembleImage(state.content, { ...base, layers, ociMediaTypes: format.ociMediaTypes });
      archived.set(key, blobs);
    }
    return blobs;
  };

  const push = async (blobs: ImageBlobs, names: readonly string[]) => {
    const manifestBytes = await state.content.readBytes(blobs.manifest.digest);
    const pushBlobs = pushBlobsOf(state.content, [...blobs.layers, blobs.config]);
    for (const n of names) {
      const ref = parseReference(n);
      await pushImage(ref, pushBlobs, { mediaType: blobs.manifest.mediaType, bytes: manifestBytes }, await pushOptionsFor(ref.domain, access, state.content));
    }
  };
  const exported = (blobs: ImageBlobs, names: readonly string[]): ExportImage => ({ provider: state.content, image: blobs, names, platform, created });

  for (const out of outputs) {
    // An interrupted build starts no further output (each one is written whole or not at all).
    signal?.throwIfAborted();
    switch (out.type) {
      case 'image': {
        // Pushed, the store keeps the very manifest the registry has (its compressed blobs
        // are here anyway), so the store, the registry and the reported digest agree.
        const blobs = out.push === undefined ? await forStore() : await forArchive(out.push);
        await registerLayers(state, image.layers);
        for (const n of out.names) await state.images.tagImage(n, blobs.manifest);
        if (out.push !== undefined) await push(blobs, out.names);
        report(blobs, imageDescriptor(blobs), out.names);
        break;
      }
      case 'oci': {
        const blobs = await forArchive(out.format);
        const ex = exported(blobs, out.names);
        if (out.tar) await mkdir(dirname(out.dest), { recursive: true }); // as buildx makes a file output's parents
        await writeOciLayout({ dest: out.dest, tar: out.tar }, ex);
        report(blobs, exportDescriptor(ex), exportNames(out.names));
        break;
      }
      case 'docker': {
        const blobs = await forArchive(out.format);
        const ex = exported(blobs, out.names);
        await mkdir(dirname(out.dest), { recursive: true });
        await writeDockerArchive(out.dest, ex, out.names);
        report(blobs, exportDescriptor(ex), exportNames(out.names));
        break;
      }
      case 'local':
        await writeRootfsDir(out.dest, image.layers.map((l) => l.diffId), openTar, { setXattr: (path, name, value) => fileXattrs.set(path, name, value) });
        break;
      case 'tar':
        await mkdir(dirname(out.dest), { recursive: true });
        await writeRootfsTar(out.dest, image.layers.map((l) => l.diffId), openTar);
        break;
      case 'registry': {
        const blobs = await forArchive(out.format);
        await push(blobs, out.names);
        report(blobs, imageDescriptor(blobs), out.names);
        break;
      }
    }
  }
  return { response };
}

/**
 * The image ID as buildx takes it from the response: the config digest, else the manifest
 * digest; undefined when no output made an image.
 */
export function imageId(written: Written): string | undefined {
  return written.response['containerimage.config.digest'] ?? written.response['containerimage.digest'];
}

/** `--iidfile` with these outputs: buildx refuses it up front for rootfs outputs, as here (and without any image output). */
export function checkIidFileOutputs(outputs: readonly Output[]): void {
  if (outputs.some((o) => o.type === 'local' || o.type === 'tar')) throw usageError('local and tar outputs are incompatible with --iidfile');
  if (outputs.length === 0) throw usageError('--iidfile needs an image output (-t NAME, or -o type=image|oci|docker|registry)');
}

export async function writeIidFile(path: string, written: Written): Promise<void> {
  const id = imageId(written);
  if (id === undefined) throw new Error('internal: --iidfile without an image output');
  // Whole or not at all: an interrupted build leaves no half-written file.
  await writeFileAtomic(path, id);
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

export async function writeMetadataFile(path: string, written: Written): Promise<void> {
  await writeFileAtomic(path, metadataJson(written));
}
