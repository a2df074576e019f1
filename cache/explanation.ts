/**
 * The optional explanation part of a cache record (format.ts): the step's key in comparable
 * parts (solver/core's StepExplanation), checked when read. A cache written before it existed
 * has none and parses as before.
 */
import type { FileDigests, StepExplanation } from '../solver/core/index.js';

export type { StepExplanation } from '../solver/core/index.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');

function files(v: unknown): FileDigests | undefined {
  if (!isObject(v) || typeof v['count'] !== 'number' || !Number.isSafeInteger(v['count']) || v['count'] < 0 || typeof v['sum'] !== 'string') return undefined;
  if (v['paths'] !== undefined && !isStrings(v['paths'])) return undefined;
  return { count: v['count'], sum: v['sum'], ...(v['paths'] === undefined ? {} : { paths: v['paths'] }) };
}

/** A record's explanation as written, or undefined when it is not one. */
export function parseExplanation(v: unknown): StepExplanation | undefined {
  if (!isObject(v) || typeof v['step'] !== 'string' || !isStrings(v['fields'])) return undefined;
  const inputs = v['inputs'];
  if (!Array.isArray(inputs) || !inputs.every((i) => typeof i === 'string')) return undefined;
  let f: FileDigests | undefined;
  if (v['files'] !== undefined && (f = files(v['files'])) === undefined) return undefined;
  return { step: v['step'], fields: v['fields'], inputs: inputs as string[], ...(f === undefined ? {} : { files: f }) };
}
