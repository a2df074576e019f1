/**
 * Which ignore file applies to a build, as BuildKit decides: `<Dockerfile path>.dockerignore`
 * beside the Dockerfile wins over `<context>/.dockerignore`; the two are never merged, and an
 * empty Dockerfile-specific file still wins (it excludes nothing). The only file reading here.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../../errors/index.js';
import { parseIgnoreFile, type IgnorePattern } from '../../patternmatcher/index.js';

export interface IgnoreFile {
  /** The file read, as a path built from the arguments. */
  readonly path: string;
  readonly text: string;
  /** True for `<Dockerfile>.dockerignore`, false for the context's `.dockerignore`. */
  readonly dockerfileSpecific: boolean;
}

/**
 * The ignore file for a Dockerfile at `dockerfilePath` (undefined or "-" when it comes from
 * stdin: then only the context's file counts) and a context directory; undefined when neither
 * exists. Throws BuildError 'IO' when a candidate exists but cannot be read.
 */
export async function findIgnoreFile(
  dockerfilePath: string | undefined,
  contextDir: string,
): Promise<IgnoreFile | undefined> {
  if (dockerfilePath !== undefined && dockerfilePath !== '-') {
    const path = dockerfilePath + '.dockerignore'; // beside it, with the Dockerfile's own name
    const text = await readIfExists(path);
    if (text !== undefined) return { path, text, dockerfileSpecific: true };
  }
  const path = join(contextDir, '.dockerignore');
  const text = await readIfExists(path);
  return text === undefined ? undefined : { path, text, dockerfileSpecific: false };
}

/** findIgnoreFile, then parseIgnoreFile; no file means no patterns. */
export async function readIgnorePatterns(
  dockerfilePath: string | undefined,
  contextDir: string,
): Promise<IgnorePattern[]> {
  const file = await findIgnoreFile(dockerfilePath, contextDir);
  return file === undefined ? [] : parseIgnoreFile(file.text, file.path);
}

async function readIfExists(path: string): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new BuildError('IO', `cannot read ${path}: ${(e as Error).message}`, {}, { cause: e });
  }
  // Keep a byte-order mark in the text: parseIgnoreFile strips exactly one, as Docker does.
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
}
