/**
 * A small declarative argument parser with docker-style flags: `--name value`, `--name=value`,
 * `-n value`, `-nvalue`, repeatable flags, booleans, and `--` to end flags. Unknown flags are
 * a usage error with a suggestion.
 */
import { BuildError, didYouMean } from '../errors/index.js';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, readonly string[]>;
  readonly positionals: readonly string[];
}

export function usageError(message: string, hint?: string): BuildError {
  return new BuildError('USAGE', message, hint === undefined ? {} : { hint });
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short!, s]));
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  const set = (spec: FlagSpec, value: string): void => {
    const prev = flags.get(spec.name);
    if (prev !== undefined && !spec.multiple) {
      if (spec.type === 'boolean') return;
      throw usageError(`flag --${spec.name} given more than once`);
    }
    flags.set(spec.name, [...(prev ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
      spec = byName.get(name);
      if (spec === undefined) {
        const hint = didYouMean(name, byName.keys());
        throw usageError(`unknown flag for "${command}": --${name}`, hint !== undefined ? hint.replace('"', '"--') : `see "tsbuild ${command} --help"`);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      spec = byShort.get(a[1]!);
      if (spec === undefined) throw usageError(`unknown shorthand flag for "${command}": ${a.slice(0, 2)}`, `see "tsbuild ${command} --help"`);
      if (a.length > 2) inline = a.slice(2).replace(/^=/, '');
    } else {
      positionals.push(a);
      continue;
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined && !['true', 'false', '1', '0'].includes(inline)) {
        throw usageError(`flag --${spec.name} takes no value (or true/false), got "${inline}"`);
      }
      if (inline === 'false' || inline === '0') flags.delete(spec.name);
      else set(spec, 'true');
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw usageError(`flag --${spec.name} needs a value`);
      inline = argv[++i]!;
    }
    set(spec, inline);
  }
  return { flags, positionals };
}

export function flagValue(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return v === undefined ? undefined : v[v.length - 1];
}

export function flagValues(p: ParsedArgs, name: string): readonly string[] {
  return p.flags.get(name) ?? [];
}

export function flagSet(p: ParsedArgs, name: string): boolean {
  return p.flags.has(name);
}

/** `--build-arg` values: `K=V`, or `K` alone taking `$K` (skipped when unset), as docker does. */
export function buildArgsFrom(values: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw usageError(`invalid --build-arg "${v}": the name is empty`, 'write --build-arg NAME=VALUE');
    if (eq > 0) out.set(v.slice(0, eq), v.slice(eq + 1));
    else if (env[v] !== undefined) out.set(v, env[v]!);
  }
  return out;
}
