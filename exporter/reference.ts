/**
 * Image names in the local store. A name is kept as the user wrote it, not expanded the way
 * a registry client expands it: `busybox:test` is stored as `busybox:test`, and
 * `docker.io/library/busybox:test` is a different name. The only normalisation is that a
 * name with neither tag nor digest gets `:latest`. This keeps `tsbuild images` showing what
 * was typed, and the store free of registry policy.
 */
import { ExporterError } from './errors.js';

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
    throw new ExporterError('BAD_REFERENCE', `invalid image name "${input}"${hint}`);
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
