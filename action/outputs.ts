/**
 * The step's outputs, from the build's metadata file and its steps: `imageid` (the config
 * digest, else the manifest digest, as the ID file holds it), `digest` (the manifest written or
 * pushed), `metadata` (the file's JSON, two-space indented as build-push-action sets it) and
 * `cache-hit-ratio`; and their text in the runner's file-command format for `$GITHUB_OUTPUT`.
 */
import { randomUUID } from 'node:crypto';
import { BuildError } from '../errors/index.js';
import { imageId } from '../build/index.js';
import { cacheHitRatio, type Step } from './steps.js';

export type StepOutputs = Readonly<Partial<Record<'imageid' | 'digest' | 'metadata', string>>> & { readonly 'cache-hit-ratio': string };

/** The metadata file's object; `null` or no text (no file written) is none. */
export function parseMetadata(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text.trim() === '' || text.trim() === 'null') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BuildError('IO', `the build's metadata file is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BuildError('IO', "the build's metadata file holds no JSON object");
  return v as Record<string, unknown>;
}

export function stepOutputs(metadata: Record<string, unknown> | undefined, steps: readonly Step[]): StepOutputs {
  const response: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (typeof v === 'string') response[k] = v;
  const id = imageId({ response });
  const digest = response['containerimage.digest'];
  return {
    ...(id === undefined ? {} : { imageid: id }),
    ...(digest === undefined ? {} : { digest }),
    ...(metadata === undefined ? {} : { metadata: JSON.stringify(metadata, null, 2) }),
    'cache-hit-ratio': cacheHitRatio(steps),
  };
}

/**
 * `NAME<<DELIMITER`, the value, `DELIMITER`: a form every value fits, multi-line ones included,
 * with a delimiter of its own each time so no value can end it early.
 */
export function outputFileText(outputs: Readonly<Record<string, string>>, delimiter: () => string = () => `ghadelimiter_${randomUUID()}`): string {
  let text = '';
  for (const [name, value] of Object.entries(outputs)) {
    const d = delimiter();
    if (name.includes(d) || value.includes(d)) throw new BuildError('IO', `output ${name}: its value holds the delimiter ${d}`);
    text += `${name}<<${d}\n${value}\n${d}\n`;
  }
  return text;
}
