/**
 * Instruction flags (`--name=value`), checked the way BuildKit's BFlags does: each instruction
 * declares the flags it accepts, then the written flags are read left to right and the first
 * problem is the error.
 */
import type { Flag } from '../parser/ast.js';
import { fail, hintFor } from './errors.js';

type FlagKind = 'bool' | 'string' | 'strings';

export interface FlagValues {
  /** Value of a string flag, undefined when not written. */
  string(name: string): string | undefined;
  /** A bool flag: true / false when written, undefined when not. */
  bool(name: string): boolean | undefined;
  /** Every value of a repeatable flag, in order. */
  strings(name: string): string[];
  /** Names of the flags written (without `--`), in order of first use. */
  readonly used: readonly string[];
}

/** Read `flags` against the declared `spec`; throws BAD_FLAG at the offending flag. */
export function parseFlags(flags: readonly Flag[], spec: Readonly<Record<string, FlagKind>>): FlagValues {
  const strings = new Map<string, string>();
  const bools = new Map<string, boolean>();
  const lists = new Map<string, string[]>();
  const used: string[] = [];

  for (const flag of flags) {
    const text = flag.text;
    if (text === '--') break; // everything after a bare `--` is not a flag
    if (!text.startsWith('--')) fail('BAD_FLAG', `arg should start with -- : ${text}`, flag.range);

    const eq = text.indexOf('=');
    const written = eq < 0 ? text : text.slice(0, eq); // `--name`
    const value = eq < 0 ? undefined : text.slice(eq + 1);
    const name = written.slice(2);

    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      fail('BAD_FLAG', `unknown flag: ${written}`, flag.range, hintFor(name, Object.keys(spec), true));
    }
    if (used.includes(name) && kind !== 'strings') {
      fail('BAD_FLAG', `duplicate flag specified: ${written}`, flag.range);
    }
    if (!used.includes(name)) used.push(name);

    switch (kind) {
      case 'bool': {
        if (value === '') fail('BAD_FLAG', `missing a value on flag: ${written}`, flag.range);
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') {
          fail('BAD_FLAG', `expecting boolean value for flag ${written}, not: ${value ?? ''}`, flag.range);
        }
        bools.set(name, v === 'true');
        break;
      }
      case 'string':
        if (value === undefined) fail('BAD_FLAG', `missing a value on flag: ${written}`, flag.range);
        strings.set(name, value);
        break;
      case 'strings': {
        if (value === undefined) fail('BAD_FLAG', `missing a value on flag: ${written}`, flag.range);
        const list = lists.get(name) ?? [];
        list.push(value);
        lists.set(name, list);
        break;
      }
    }
  }

  return {
    string: (name) => strings.get(name),
    bool: (name) => bools.get(name),
    strings: (name) => [...(lists.get(name) ?? [])],
    used,
  };
}

/** The range to blame for a flag's value: the last `--name…` written, if any. */
export function flagRange(flags: readonly Flag[], name: string): Flag['range'] | undefined {
  let found: Flag['range'] | undefined;
  for (const f of flags) {
    if (f.text === '--') break;
    if (f.text === `--${name}` || f.text.startsWith(`--${name}=`)) found = f.range;
  }
  return found;
}
