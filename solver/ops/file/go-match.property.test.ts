// compileGoPattern fuzzed against a small matcher of Go's filepath.Match rules written here
// from its grammar, by backtracking rather than through a regular expression: no pattern may
// crash it (a regular expression it cannot build was the bug of `COPY my-*.txt`), it refuses
// exactly the patterns Go refuses, and it matches what Go matches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../../errors/index.js';
import { compileGoPattern } from './go-match.js';

type Item =
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'char'; readonly c: string }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly (readonly [number, number])[] };

/**
 * Go's grammar: `*`, `?`, `[` [`^`] ranges `]` (non-empty; a member is a character other than
 * `\`, `-`, `]`, or `\` and any character; `lo-hi` a range, matching nothing when hi < lo),
 * `\` and any character, or a character. Undefined when Go says ErrBadPattern.
 */
function parse(pattern: string): Item[] | undefined {
  const cs = Array.from(pattern);
  const items: Item[] = [];
  let i = 0;
  const member = (): string | undefined => {
    let c = cs[i];
    if (c === undefined || c === '-' || c === ']') return undefined;
    if (c === '\\') c = cs[++i];
    if (c === undefined) return undefined;
    i++;
    return c;
  };
  while (i < cs.length) {
    const c = cs[i]!;
    if (c === '*') {
      items.push({ kind: 'star' });
      i++;
    } else if (c === '?') {
      items.push({ kind: 'any' });
      i++;
    } else if (c === '\\') {
      if (i + 1 >= cs.length) return undefined;
      items.push({ kind: 'char', c: cs[i + 1]! });
      i += 2;
    } else if (c === '[') {
      i++;
      const negated = cs[i] === '^';
      if (negated) i++;
      const ranges: [number, number][] = [];
      for (;;) {
        if (cs[i] === ']' && ranges.length > 0) {
          i++;
          break;
        }
        const lo = member();
        if (lo === undefined) return undefined;
        let hi = lo;
        if (cs[i] === '-') {
          i++;
          const h = member();
          if (h === undefined) return undefined;
          hi = h;
        }
        if (i >= cs.length) return undefined; // a class must be closed
        ranges.push([lo.codePointAt(0)!, hi.codePointAt(0)!]);
      }
      items.push({ kind: 'class', negated, ranges });
    } else {
      items.push({ kind: 'char', c });
      i++;
    }
  }
  return items;
}

/** Whole-name match by backtracking: `*` and `?` never take a `/`; a class takes any one character. */
function matches(items: readonly Item[], name: readonly string[], at = 0, from = 0): boolean {
  if (at === items.length) return from === name.length;
  const item = items[at]!;
  if (item.kind === 'star') {
    for (let k = from; ; k++) {
      if (matches(items, name, at + 1, k)) return true;
      if (k >= name.length || name[k] === '/') return false;
    }
  }
  const ch = name[from];
  if (ch === undefined) return false;
  let ok: boolean;
  if (item.kind === 'any') ok = ch !== '/';
  else if (item.kind === 'char') ok = ch === item.c;
  else {
    const cp = ch.codePointAt(0)!;
    ok = item.ranges.some(([lo, hi]) => lo <= cp && cp <= hi) !== item.negated;
  }
  return ok && matches(items, name, at + 1, from + 1);
}

/** What compileGoPattern says: a match result per name, or a bad pattern; anything else throws. */
function ours(pattern: string, names: readonly string[]): boolean[] | 'bad' {
  let compiled;
  try {
    compiled = compileGoPattern(pattern);
  } catch (e) {
    if (e instanceof BuildError && e.code === 'COPY_FAILED' && e.message.startsWith('syntax error in pattern')) return 'bad';
    throw e; // a crash: a regular expression that could not be built, or worse
  }
  return names.map((n) => compiled.test(n));
}

function reference(pattern: string, names: readonly string[]): boolean[] | 'bad' {
  const items = parse(pattern);
  return items === undefined ? 'bad' : names.map((n) => matches(items, Array.from(n)));
}

// Characters that mean something to Go's patterns, to regular expressions, or to neither, and
// a few outside the BMP and ASCII.
const SPECIAL = ['*', '?', '[', ']', '^', '-', '\\', '/', '!', '.', '+', '(', ')', '{', '}', '|', '$', ',', ':'];
const PLAIN = ['a', 'b', 'z', 'A', '0', '_', ' ', 'é', '☺', '😀', '\u{10ffff}'];
const anyChar = fc.constantFrom(...SPECIAL, ...PLAIN);
const nameChar = fc.constantFrom(...SPECIAL.filter((c) => c !== '/'), ...PLAIN, 'a', 'b', '-', '.');
const text = (ch: fc.Arbitrary<string>, maxLength: number) => fc.array(ch, { maxLength }).map((a) => a.join(''));

/** A well-formed member or range of a class. */
const member = fc.oneof(
  fc.constantFrom(...PLAIN, '.', '*', '?', '[', '^', '/', '$'),
  fc.constantFrom('-', ']', '\\', '^', '[').map((c) => `\\${c}`),
);
const classPart = fc.tuple(member, fc.option(member, { nil: undefined })).map(([lo, hi]) => (hi === undefined ? lo : `${lo}-${hi}`));
/** Mostly well-formed patterns, so that matching is exercised and not only refusals. */
const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PLAIN, '-', '.', '+', '(', ')', '$', '{', '}', '|', ',', '!') },
  { weight: 2, arbitrary: fc.constantFrom('*', '?') },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL).map((c) => `\\${c}`) },
  { weight: 2, arbitrary: fc.tuple(fc.boolean(), fc.array(classPart, { minLength: 1, maxLength: 3 })).map(([neg, parts]) => `[${neg ? '^' : ''}${parts.join('')}]`) },
);
const pattern = fc.oneof(
  { weight: 3, arbitrary: fc.array(token, { maxLength: 6 }).map((t) => t.join('')) },
  { weight: 1, arbitrary: text(anyChar, 10) },
);

/** A name made from the pattern's own characters, so that matches are not rare. */
const namesFor = (p: string, slash: boolean) => {
  const own = Array.from(p).filter((c) => slash || c !== '/');
  const ch = own.length === 0 ? nameChar : fc.oneof(fc.constantFrom(...own), nameChar, ...(slash ? [fc.constant('/')] : []));
  return fc.array(text(ch, 8), { minLength: 1, maxLength: 8 });
};

describe('compileGoPattern against Go filepath.Match rules (property)', () => {
  it('never crashes, refuses what Go refuses, and matches what Go matches on one path component', () => {
    fc.assert(
      fc.property(pattern.chain((p) => fc.tuple(fc.constant(p), namesFor(p, false))), ([p, names]) => {
        expect(ours(p, names)).toEqual(reference(p, names));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps `*` and `?` inside one component of a slash-separated name', () => {
    // Without a class, Go's leftmost matching of each run between stars and backtracking agree.
    const noClass = pattern.filter((p) => parse(p)?.every((item) => item.kind !== 'class') ?? false);
    fc.assert(
      fc.property(noClass.chain((p) => fc.tuple(fc.constant(p), namesFor(p, true))), ([p, names]) => {
        expect(ours(p, names)).toEqual(reference(p, names));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with Go on the cases that once crashed or differed', () => {
    const cases: [string, string, boolean | 'bad'][] = [
      ['my-*.txt', 'my-file.txt', true],
      ['a-?.txt', 'a-b.txt', true],
      ['[a-c]-[0-9]', 'b-5', true],
      ['(x)+{1}|$', '(x)+{1}|$', true],
      // Go refuses no range for its order: hi < lo is a range matching nothing.
      ['[z-a]', 'm', false],
      ['[^z-a]', 'm', true],
      ['x[z-a]y', 'xay', false],
      // A class takes any one character, `/` too; `?` and `*` never do.
      ['a[^x]b', 'a/b', true],
      ['a?b', 'a/b', false],
      ['[', 'x', 'bad'],
      ['a[]', 'a', 'bad'],
      ['[a-]', 'a', 'bad'],
    ];
    for (const [p, name, expected] of cases) {
      const want = expected === 'bad' ? 'bad' : [expected];
      expect(reference(p, [name]), `reference ${p} ${name}`).toEqual(want);
      expect(ours(p, [name]), `${p} ${name}`).toEqual(want);
    }
  });
});
