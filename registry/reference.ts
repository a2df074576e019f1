/**
 * Image references normalised as Docker normalises them: `busybox` is
 * `docker.io/library/busybox:latest`; a first component with a dot or a colon, or
 * `localhost`, names a registry; `name@sha256:…` pins a digest.
 */
import { BuildError } from '../errors/index.js';

export interface ImageReference {
  /** The registry host (and port) as named: `docker.io`, `127.0.0.1:5000`. */
  readonly domain: string;
  /** The repository path: `library/busybox`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

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
    if (!DIGEST.test(digest)) bad(ref, 'the digest is not sha256:<64 hex digits>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(ref, 'the tag is not valid');
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let domain = 'docker.io';
  let path = rest;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (path === '' || !path.split('/').every((c) => COMPONENT.test(c))) {
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
 * Where the registry's API is: Docker Hub's endpoint for docker.io; plain HTTP for loopback
 * and for hosts marked insecure, unless a CA was given for the host (then it speaks TLS).
 */
export function registryEndpoint(domain: string, insecure: readonly string[] = [], tlsHosts: readonly string[] = []): string {
  if (domain === 'docker.io') return 'https://registry-1.docker.io';
  if (tlsHosts.includes(domain)) return `https://${domain}`;
  const host = domain.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
  return `${loopback || insecure.includes(domain) ? 'http' : 'https'}://${domain}`;
}
