import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goClean } from './go-text.js';
import { compileMatcher, type Matcher } from './matcher.js';
import { parseIgnoreFile } from './parse.js';

const matcherOf = (lines: readonly string[]): Matcher =>
  compileMatcher(parseIgnoreFile(lines.join('\n'), '.dockerignore'));

/** Path elements without pattern meta characters, `.`/`..`, spaces or slashes. */
const element = fc.stringMatching(/^[a-z0-9_-][a-z0-9_.-]{0,6}$/).filter((s) => s !== '..');
const literalPath = fc.array(element, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));

/** A small alphabet so that random patterns and paths meet often. */
const smallElement = fc.constantFrom('a', 'b', 'ab', 'x.md');
const smallPath = fc.array(smallElement, { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
const smallPattern = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.constantFrom('a', 'b', 'ab', 'x.md', '*', '?b', '**', '*.md', 'a*', '[ab]'), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([exception, parts]) => (exception ? '!' : '') + parts.join('/'));

/** A reference Go filepath.Match for `*`, `?` and literals on one path element (no `/`). */
function globMatchesElement(pattern: string, name: string): boolean {
  if (pattern === '') return name === '';
  if (pattern[0] === '*') {
    for (let i = 0; i <= name.length; i++) if (globMatchesElement(pattern.slice(1), name.slice(i))) return true;
    return false;
  }
  if (name === '') return false;
  return (pattern[0] === '?' || pattern[0] === name[0]) && globMatchesElement(pattern.slice(1), name.slice(1));
}

describe('properties', () => {
  it('a literal pattern excludes exactly that path and the paths below it', () => {
    fc.assert(
      fc.property(literalPath, literalPath, (pattern, path) => {
        const expected = path === pattern || path.startsWith(pattern + '/');
        expect(matcherOf([pattern]).matches(path)).toBe(expected);
      }),
    );
  });

  it('a leading slash, ./ or trailing slash does not change a literal pattern', () => {
    fc.assert(
      fc.property(literalPath, literalPath, (pattern, path) => {
        const plain = matcherOf([pattern]).matches(path);
        expect(matcherOf(['/' + pattern]).matches(path)).toBe(plain);
        expect(matcherOf(['./' + pattern + '/']).matches(path)).toBe(plain);
      }),
    );
  });

  it('`!p` right after `p` re-includes p and everything below it', () => {
    fc.assert(
      fc.property(literalPath, fc.array(element, { maxLength: 3 }), (pattern, below) => {
        const path = [pattern, ...below].join('/');
        expect(matcherOf([pattern]).matches(path)).toBe(true);
        expect(matcherOf([pattern, '!' + pattern]).matches(path)).toBe(false);
      }),
    );
  });

  it('on one path element, the last matching `*`/`?` pattern decides', () => {
    // `**` is Docker's own (any directories), not Go's, so stars come one at a time here.
    const globElement = fc.stringMatching(/^[ab*?]{1,4}$/).filter((g) => !g.includes('**'));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), globElement), { minLength: 1, maxLength: 6 }),
        fc.stringMatching(/^[ab]{1,4}$/),
        (lines, name) => {
          let expected = false;
          for (const [exception, glob] of lines) if (globMatchesElement(glob, name)) expected = !exception;
          const m = matcherOf(lines.map(([exception, glob]) => (exception ? '!' : '') + glob));
          expect(m.matches(name)).toBe(expected);
        },
      ),
    );
  });

  it('`**/name` matches name at any depth', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 4 }), element, (dirs, name) => {
        expect(matcherOf(['**/' + name]).matches([...dirs, name].join('/'))).toBe(true);
      }),
    );
  });

  it('parsing is idempotent: printing the parsed patterns and parsing again changes nothing', () => {
    // White space only around the text: inside it, Docker's clean-trim-clean makes odd patterns
    // (`/\t/a` becomes the rooted "/a"), which the unit tests pin down.
    const line = fc
      .tuple(
        fc.stringMatching(/^[ \t]{0,2}$/),
        // A line that only cleans to `!x` (`/!x`, `./!x`) is read as `!` plus an uncleaned "x"
        // (see parse.test.ts), which no reprint reproduces: not those either.
        fc.stringMatching(/^[!/.a-c*?]{0,12}$/).filter((t) => t.startsWith('!') || !/^\/?!/.test(goClean(t))),
        fc.stringMatching(/^[ \t]{0,2}$/),
      )
      .map(([before, text, after]) => before + text + after);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
        let first;
        try {
          first = parseIgnoreFile(lines.join('\n'), 'f');
        } catch {
          return; // a refused file (e.g. a lone "!") is covered elsewhere
        }
        const printed = first.map((p) => (p.exception ? '!' : '') + p.pattern).join('\n');
        const second = parseIgnoreFile(printed, 'f');
        expect(second.map((p) => [p.pattern, p.exception])).toEqual(first.map((p) => [p.pattern, p.exception]));
      }),
    );
  });

  it("walking with enterDir/matchesIn gives matches()'s answers, and a skipped subtree holds nothing kept", () => {
    fc.assert(
      fc.property(fc.array(smallPattern, { maxLength: 5 }), smallPath, (lines, path) => {
        const m = matcherOf(lines);
        const parts = path.split('/');
        // BuildKit's walker decides what lies below an excluded directory from each exception
        // with one trailing `/**` and then one `/*` cut off: `!a/*/**` is read as `!a`, so it
        // skips `a/b` and never sees `a/b/c`, which the pattern itself would keep. The walk
        // follows BuildKit there (pinned in the next test), so matches() is no reference below
        // such a skip.
        const trimmedException = parseIgnoreFile(lines.join('\n'), '.dockerignore').some(
          (p) => p.exception && (p.pattern.endsWith('/*') || p.pattern.endsWith('/**')),
        );
        let state = undefined;
        for (let i = 1; i <= parts.length; i++) {
          const prefix = parts.slice(0, i).join('/');
          const viaWalk = m.matchesIn(prefix, state);
          if (trimmedException && state?.verdict === 'excluded-subtree') {
            expect(viaWalk).toBe(true);
            state = m.enterDir(prefix, state);
            expect(state.verdict).toBe('excluded-subtree');
            continue;
          }
          expect(viaWalk).toBe(m.matches(prefix));
          // Soundness of skipping: below an 'excluded-subtree' directory nothing may be kept.
          if (state?.verdict === 'excluded-subtree') expect(m.matches(prefix)).toBe(true);
          state = m.enterDir(prefix, state);
          expect(state.verdict).toBe(m.dirVerdict(prefix));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('skips below an excluded directory as BuildKit does when an exception ends in /* or /**', () => {
    const m = matcherOf(['a', '!a/*/**']);
    const a = m.enterDir('a', undefined);
    expect(a.verdict).toBe('excluded-but-walk');
    const ab = m.enterDir('a/b', a);
    // `!a/*/**` is read as `!a` for what lies below: `a/b` is not walked, so `a/b/c` is left
    // out of the context although the pattern alone would keep it.
    expect(ab.verdict).toBe('excluded-subtree');
    expect(m.matchesIn('a/b/c', ab)).toBe(true);
    expect(m.matches('a/b/c')).toBe(false);
  });
});
