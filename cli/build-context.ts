/** `--build-context NAME=VALUE` values, checked as buildx checks them (bad ones are usage errors). */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BuildError } from '../errors/index.js';
import { asDigest, contextKey, type BuildContextSpec } from '../build/index.js';
import { usageError } from './args.js';

const FORMS = 'write --build-context NAME=DIR, NAME=docker-image://REF or NAME=oci-layout://PATH[:TAG|@sha256:DIGEST]';

/** The contexts by key (a later flag for the same name wins, as with buildx); paths resolved against `cwd`. */
export function parseBuildContexts(values: readonly string[], cwd: string): Map<string, BuildContextSpec> {
  const out = new Map<string, BuildContextSpec>();
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw usageError(`invalid --build-context "${value}": expected NAME=VALUE`, FORMS);
    const name = value.slice(0, eq);
    const key = contextKey(name);
    if (key === undefined) {
      throw usageError(`invalid --build-context name "${name}"`, 'a name is written like an image name or a stage name: lower-case letters, digits, and . _ - / separators');
    }
    out.set(key, parseValue(name, value.slice(eq + 1), cwd));
  }
  return out;
}

function parseValue(name: string, v: string, cwd: string): BuildContextSpec {
  if (v.startsWith('docker-image://')) {
    const ref = v.slice('docker-image://'.length);
    if (ref === 'scratch') return { kind: 'scratch' };
    if (ref === '' || contextKey(ref) === undefined) {
      throw usageError(`invalid --build-context ${name}: "${ref}" is not an image reference`, 'write docker-image://NAME[:TAG][@sha256:DIGEST]');
    }
    return { kind: 'image', ref };
  }
  if (v.startsWith('oci-layout://')) return ociLayout(name, v.slice('oci-layout://'.length), cwd);
  if (/^(https?|git|ssh):\/\//i.test(v) || v.startsWith('git@')) {
    throw new BuildError('NOT_SUPPORTED', `not supported yet: --build-context ${name} from a URL or git repository (${v})`, {
      hint: 'clone or download it, then pass the directory',
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || v.startsWith('target:') || v.startsWith('input:')) {
    throw usageError(`invalid --build-context ${name}: unknown kind of context "${v}"`, FORMS);
  }
  if (v === '') throw usageError(`invalid --build-context ${name}: the value is empty`, FORMS);
  const dir = resolve(cwd, v);
  if (!isDirectory(dir)) throw usageError(`--build-context ${name}: "${v}" is not a directory`, FORMS);
  return { kind: 'local', dir };
}

function ociLayout(name: string, rest: string, cwd: string): BuildContextSpec {
  let path = rest;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && /^sha256:[0-9a-f]{64}$/.test(rest.slice(at + 1))) {
    digest = rest.slice(at + 1);
    path = rest.slice(0, at);
  } else if (at >= 0 && rest.slice(at + 1).includes(':')) {
    throw usageError(`invalid --build-context ${name}: bad digest in "${rest}"`, 'write oci-layout://PATH@sha256:<64 hex digits>');
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.slice(colon + 1);
      path = rest.slice(0, colon);
      if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw usageError(`invalid --build-context ${name}: bad tag "${tag}"`, 'write oci-layout://PATH:TAG');
    }
  }
  if (path === '') throw usageError(`invalid --build-context ${name}: oci-layout:// needs a path`, 'write oci-layout://PATH[:TAG|@sha256:DIGEST]');
  const dir = resolve(cwd, path);
  if (!isDirectory(dir)) throw usageError(`--build-context ${name}: "${path}" is not a directory`, 'oci-layout:// names an OCI image layout directory');
  return { kind: 'oci-layout', dir, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest: asDigest(digest) }) };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
