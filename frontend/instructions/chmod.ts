/**
 * `COPY/ADD --chmod`: an octal mode up to 07777, or a symbolic mode in the BSD chmod(1)
 * grammar that BuildKit accepts (`u+x`, `go-w`, `a=rX,u+w`, `u=g`, `+t`…), applied with no
 * umask. BuildKit checks this when converting the instruction, after variable expansion.
 */
import type { SourceRange } from '../../errors/index.js';
import type { Chmod, SymbolicModeClause } from './types.js';
import { fail } from './errors.js';
import { goParseUint } from './gostrconv.js';

type Op = '+' | '-' | '=';
const WHO = new Set(['a', 'u', 'g', 'o']);
const PERMS = new Set(['r', 'w', 'x', 'X', 's', 't', 'u', 'g', 'o']);

/** Parse a `--chmod` value. Throws BuildError BAD_FLAG with BuildKit's message. */
export function parseChmod(value: string, range?: SourceRange): Chmod {
  const nonOctal = (): never =>
    fail('BAD_FLAG', `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`, range);
  const octal = goParseUint(value, 8, 32);
  if (octal !== undefined) {
    if (octal > 0o7777n) nonOctal();
    return { kind: 'octal', mode: Number(octal) };
  }
  // Anything that starts like a number but is not octal gets the octal message.
  if (value[0] !== undefined && value[0] >= '0' && value[0] <= '9') nonOctal();
  const clauses = parseSymbolic(value);
  if (clauses === undefined) {
    fail('BAD_FLAG', 'invalid syntax', range, `--chmod takes an octal mode (0755) or a symbolic one (u+x,g-w); got '${value}'`);
  }
  return { kind: 'symbolic', text: value, clauses };
}

/** `who* (op perms*)+` clauses separated by commas; undefined on a syntax error. */
function parseSymbolic(s: string): SymbolicModeClause[] | undefined {
  const clauses: SymbolicModeClause[] = [];
  let i = 0;
  for (;;) {
    let who = '';
    while (i < s.length && WHO.has(s[i]!)) who += s[i++];
    if (i >= s.length) return undefined; // a clause needs an operator
    const actions: { op: Op; perms: string }[] = [];
    for (;;) {
      const op = s[i];
      if (op !== '+' && op !== '-' && op !== '=') return undefined;
      i++;
      let perms = '';
      while (i < s.length && PERMS.has(s[i]!)) perms += s[i++];
      actions.push({ op, perms });
      if (i >= s.length || s[i] === ',') break;
    }
    clauses.push({ who, actions });
    if (i >= s.length) return clauses;
    i++; // the comma; a trailing comma leaves an empty clause, rejected above
  }
}
