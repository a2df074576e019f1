/**
 * Image references, the one home of their grammar: names in the local store, names as Docker
 * normalises them (outputs, registries), and references parsed for a registry client.
 *
 * Image names in the local store. A name is kept as the user wrote it, not expanded the way
 * a registry client expands it: `busybox:test` is stored as `busybox:test`, and
 * `docker.io/library/busybox:test` is a different name. The only normalisation is that a
 * name with neither tag nor digest gets `:latest`. This keeps `tsbuild images` showing what
 * was typed, and the store free of registry policy. Outputs that leave the store (OCI layouts,
 * docker archives) name images the way Docker normalises names, as BuildKit does.
 */
import { BuildError } from '../errors/index.js';
import { ImageError } from './errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$`,
);

export interface ImageName {
  /** The normalised full name, as stored. */
  readonly name: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseImageName(input: string): ImageName {
  const m = REFERENCE.exec(input);
  if (!m || input.length > 255) {
    const hint = input !== input.toLowerCase() ? ': repository names must be lower-case' : '';
    throw new ImageError('BAD_REFERENCE', `invalid image name "${input}"${hint}`);
  }
  const repository = m[1]!;
  const digest = m[3];
  const tag = m[2] ?? (digest === undefined ? 'latest' : undefined);
  const name = `${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  return { name, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

export function normalizeImageName(input: string): string {
  return parseImageName(input).name;
}

/**
 * A name as Docker normalises it for the outside world (distribution's ParseNormalizedNamed,
 * then TagNameOnly): `busybox` is `docker.io/library/busybox:latest`. BuildKit names OCI
 * layouts and docker archives so (`io.containerd.image.name`, and what `image.name` reports).
 */
export function dockerNormalizedName(input: string): string {
  const parsed = parseImageName(input);
  const [domain, path] = splitDockerDomain(parsed.repository, true);
  return `${domain}/${path}${parsed.tag === undefined ? '' : `:${parsed.tag}`}${parsed.digest === undefined ? '' : `@${parsed.digest}`}`;
}

/** The short form Docker shows (FamiliarString): `busybox:latest`, `org/app:1`, `localhost:5000/app:1`. */
export function familiarName(normalized: string): string {
  if (!normalized.startsWith('docker.io/')) return normalized;
  const rest = normalized.slice('docker.io/'.length);
  const repoEnd = rest.search(/[:@]/);
  const repo = repoEnd < 0 ? rest : rest.slice(0, repoEnd);
  return repo.startsWith('library/') && !repo.slice('library/'.length).includes('/') ? rest.slice('library/'.length) : rest;
}

/**
 * `org.opencontainers.image.ref.name` for a normalised name, as containerd's archive export
 * writes it: what follows the repository (`latest`, `v1@sha256:…`), or the whole name when
 * only a digest follows (the annotation's grammar has no room for a bare `@sha256:…`).
 */
export function ociRefName(normalized: string): string {
  const slash = normalized.indexOf('/');
  const path = slash < 0 ? normalized : normalized.slice(slash + 1);
  const at = path.search(/[:@]/);
  if (at < 0) return normalized;
  const object = path.slice(at).replace(/^:/, '');
  return object.startsWith('@') ? normalized : object;
}

/** distribution's limit on a repository path. */
const MAX_REPOSITORY_PATH = 255;
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const TAG = '[\\w][\\w.-]{0,127}';
const NAME_PARTS = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)$`);
const ANY_REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/**
 * Why `input` is no image reference, in docker's words (distribution's reference.Parse), or
 * undefined when it is one. Checked for `-t` names before a build starts, as buildx does.
 */
export function referenceProblem(input: string): string | undefined {
  const m = ANY_REFERENCE.exec(input);
  if (m === null) {
    if (input === '') return 'repository name must have at least one component';
    if (ANY_REFERENCE.test(input.toLowerCase())) return 'repository name must be lowercase';
    return 'invalid reference format';
  }
  const path = NAME_PARTS.exec(m[1]!)?.[2] ?? m[1]!;
  if (path.length > MAX_REPOSITORY_PATH) return `repository name must not be more than ${MAX_REPOSITORY_PATH} characters`;
  const digest = m[3];
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(':') as [string, string];
    const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
    if (lengths[algorithm] === undefined) return 'unsupported digest algorithm';
    if (hex.length !== lengths[algorithm]) return 'invalid checksum digest length';
    if (/[A-F]/.test(hex)) return 'invalid checksum digest format';
  }
  return undefined;
}

/**
 * Why `input` is no name Docker can normalise (distribution's ParseNormalizedNamed: a short
 * name is `docker.io/library/NAME`), or undefined. Names given in `-o name=` are read so, as
 * BuildKit's exporters read them.
 */
export function normalizedReferenceProblem(input: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(input)) return `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`;
  const [domain, remainder] = splitDockerDomain(input, true);
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote !== remote.toLowerCase()) return `invalid reference format: repository name (${remote}) must be lowercase`;
  const problem = referenceProblem(`${domain}/${remainder}`);
  return problem === undefined || problem.startsWith('invalid reference format') ? problem : `invalid reference format: ${problem}`;
}

/**
 * A reference as a registry client reads it, normalised as Docker normalises it: `busybox` is
 * `docker.io/library/busybox:latest`; a first component with a dot or a colon, or
 * `localhost`, names a registry; `name@sha256:…` pins a digest.
 */
export interface ImageReference {
  /** The registry host (and port) as named: `docker.io`, `127.0.0.1:5000`. */
  readonly domain: string;
  /** The repository path: `library/busybox`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const REF_COMPONENT = new RegExp(`^${COMPONENT}$`);
const REF_TAG = new RegExp(`^${TAG}$`);
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

function bad(ref: string, why: string): never {
  throw new BuildError('BAD_REFERENCE', `invalid reference format: ${why}: "${ref}"`, {
    hint: 'write [REGISTRY/]NAME[:TAG][@sha256:DIGEST] with a lower-case name',
  });
}

export function parseReference(ref: string): ImageReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256_DIGEST.test(digest)) bad(ref, 'the digest is not sha256:<64 hex digits>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!REF_TAG.test(tag)) bad(ref, 'the tag is not valid');
  }
  // An upper-case first component stays in the path, to be refused as not lower-case.
  const [domain, path] = splitDockerDomain(rest, false);
  if (path === '' || !path.split('/').every((c) => REF_COMPONENT.test(c))) {
    bad(ref, path.toLowerCase() === path ? 'the repository name is not valid' : 'repository name must be lowercase');
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, repository: path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The full normalised name, e.g. `docker.io/library/busybox:latest`. */
export function formatReference(r: ImageReference): string {
  return `${r.domain}/${r.repository}${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@${r.digest}`}`;
}

/**
 * distribution's domain split: a first component with a dot, a port or `localhost` (and, where
 * `upperCaseIsDomain`, one with upper case) names a registry, else the name is Docker Hub's;
 * `index.docker.io` is `docker.io`, and Docker Hub's single names gain `library/`.
 */
function splitDockerDomain(name: string, upperCaseIsDomain: boolean): [domain: string, path: string] {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let domain = 'docker.io';
  let path = name;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || (upperCaseIsDomain && first !== first.toLowerCase()))) {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return [domain, path];
}
