/**
 * The action's inputs, read from the environment as the runner passes them (`INPUT_` and the
 * name upper-cased, spaces turned into `_`, dashes kept) and parsed input by input as
 * docker/build-push-action parses its own: strings trimmed, booleans in the YAML 1.2 core
 * schema's six spellings, lists as list.ts reads them (each with build-push-action's options).
 * `summary` is this action's own switch for the job summary.
 */
import { BuildError } from '../errors/index.js';
import { parseList, type ListOptions } from './list.js';

export type InputEnv = Readonly<Record<string, string | undefined>>;

/** The list inputs and how each is split (build-push-action's options for it). */
const LIST_INPUTS = {
  'add-hosts': {},
  allow: {},
  annotations: { ignoreComma: true },
  attests: { ignoreComma: true },
  'build-args': { ignoreComma: true },
  'build-contexts': { ignoreComma: true },
  'cache-from': { ignoreComma: true },
  'cache-to': { ignoreComma: true },
  labels: { ignoreComma: true },
  'no-cache-filters': {},
  outputs: { ignoreComma: true, quote: false },
  platforms: {},
  secrets: { ignoreComma: true, trimWhitespace: false },
  'secret-envs': {},
  'secret-files': { ignoreComma: true },
  ssh: {},
  tags: {},
  ulimit: { ignoreComma: true },
} as const satisfies Record<string, ListOptions>;

const BOOLEAN_INPUTS = ['load', 'no-cache', 'pull', 'push', 'summary'] as const;

const STRING_INPUTS = [
  'builder',
  'call',
  'cgroup-parent',
  'context',
  'file',
  'github-token',
  'network',
  'provenance',
  'sbom',
  'shm-size',
  'target',
] as const;

export type ListInput = keyof typeof LIST_INPUTS;
export type BooleanInput = (typeof BOOLEAN_INPUTS)[number];
export type StringInput = (typeof STRING_INPUTS)[number];

export type ActionInputs = { readonly [K in ListInput]: readonly string[] } & { readonly [K in BooleanInput]: boolean } & {
  readonly [K in StringInput]: string;
};

/** Every input this action reads (action.yml declares exactly these; a test holds them equal). */
export const INPUT_NAMES: readonly string[] = [...Object.keys(LIST_INPUTS), ...BOOLEAN_INPUTS, ...STRING_INPUTS].sort();

/** The variable the runner sets for an input. */
export const inputVariable = (name: string) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

/** An input's text; trimmed unless asked not to. Unset is empty. */
export function getInput(env: InputEnv, name: string, opts: { readonly trimWhitespace?: boolean } = {}): string {
  const value = env[inputVariable(name)] ?? '';
  return opts.trimWhitespace === false ? value : value.trim();
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** A boolean as the YAML 1.2 core schema spells it; anything else (empty too) names the input. */
export function getBooleanInput(env: InputEnv, name: string): boolean {
  const value = getInput(env, name);
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new BuildError('USAGE', `input "${name}" is not a boolean: ${JSON.stringify(value)}`, {
    hint: 'write true, True, TRUE, false, False or FALSE',
  });
}

/** A string that may be a boolean: `true`/`false` in a spelling above, else undefined. */
export function asBoolean(value: string): boolean | undefined {
  return TRUE.includes(value) ? true : FALSE.includes(value) ? false : undefined;
}

/** A list input's items. */
export function getInputList(env: InputEnv, name: ListInput): string[] {
  const opts: ListOptions = LIST_INPUTS[name];
  return parseList(name, getInput(env, name, { trimWhitespace: opts.trimWhitespace !== false }), opts);
}

/** Every input, read and parsed (a bad boolean or an unclosed quote fails here). */
export function readInputs(env: InputEnv): ActionInputs {
  const out: Record<string, string | boolean | readonly string[]> = {};
  for (const name of Object.keys(LIST_INPUTS) as ListInput[]) out[name] = getInputList(env, name);
  for (const name of BOOLEAN_INPUTS) out[name] = getBooleanInput(env, name);
  for (const name of STRING_INPUTS) out[name] = getInput(env, name);
  return out as ActionInputs;
}
