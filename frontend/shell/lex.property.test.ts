import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { isGoSpace } from './chars.js';
import { Expander } from './expander.js';
import { Lex, type EscapeToken } from './index.js';

const escapes: readonly EscapeToken[] = ['\\', '`'];
const anyText = fc.string({ unit: 'binary', maxLength: 40 });

/** Text the expander must leave alone: no '$', quote, escape character or leading U+FEFF. */
function inert(escape: EscapeToken): fc.Arbitrary<string> {
  return anyText.map((s) => s.replace(/^\uFEFF+/, '').replace(/[$'"]/g, '').split(escape).join(''));
}

/** Runs the full expander, bypassing Lex's shortcut for words with nothing to expand. */
function slowPath(word: string, escape: EscapeToken): { result: string; words: string[] } {
  const cfg = { escape: escape.charCodeAt(0), rawQuotes: false, rawEscapes: false, processQuotes: true, skipUnsetEnv: false };
  const x = new Expander(word, new Map(), cfg, true);
  const result = x.run();
  return { result, words: x.words };
}

function goSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of s) {
    if (isGoSpace(ch.codePointAt(0)!)) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

// Biased towards the characters that matter, so that many inputs reach deep into the syntax.
const syntaxHeavy = fc
  .array(
    fc.oneof(
      fc.constantFrom('$', '${', '}', '{', ':', '-', '+', '?', '#', '%', '/', '\\', '`', "'", '"', '<<', ' ', '*', '$A', '${A', '0', '\ufeff'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''));
const envs = fc.array(fc.tuple(fc.constantFrom('A', 'B', '0', '_'), fc.oneof(syntaxHeavy, anyText)), { maxLength: 4 }).map((kv) => new Map(kv));

describe('properties', () => {
  it('leaves text without $, quotes or the escape character unchanged', () => {
    for (const escape of escapes) {
      const lex = new Lex(escape);
      fc.assert(
        fc.property(inert(escape), (s) => {
          expect(lex.processWord(s, [])).toBe(s);
          expect(slowPath(s, escape).result).toBe(s);
        }),
      );
    }
  });

  it('splits such text at Go white space, on the fast and the full path alike', () => {
    for (const escape of escapes) {
      const lex = new Lex(escape);
      fc.assert(
        fc.property(
          inert(escape).map((s) => s.replace(/</g, '')),
          (s) => {
            expect(lex.processWords(s, [])).toEqual(goSplit(s));
            expect(slowPath(s, escape).words).toEqual(goSplit(s));
          },
        ),
      );
    }
  });

  it('gives back any text escaped character by character, as one word', () => {
    for (const escape of escapes) {
      const lex = new Lex(escape);
      fc.assert(
        fc.property(anyText.map((s) => s.replace(/^\uFEFF+/, '')), (s) => {
          const escaped = Array.from(s, (ch) => escape + ch).join('');
          expect(lex.processWord(escaped, [])).toBe(s);
          expect(lex.processWords(escaped, [])).toEqual(s === '' ? [] : [s]);
        }),
      );
    }
  });

  it('gives back single-quoted text unchanged', () => {
    const lex = new Lex('\\');
    fc.assert(
      fc.property(anyText.map((s) => s.replace(/'/g, '')), (s) => {
        expect(lex.processWord(`'${s}'`, ['A=x'])).toBe(s);
      }),
    );
  });

  it('gives back double-quoted text with ", $ and the escape character escaped', () => {
    for (const escape of escapes) {
      const lex = new Lex(escape);
      fc.assert(
        fc.property(anyText, (s) => {
          const body = Array.from(s, (ch) => (ch === '"' || ch === '$' || ch === escape ? escape + ch : ch)).join('');
          expect(lex.processWord(`"${body}"`, [])).toBe(s);
        }),
      );
    }
  });

  it('throws nothing but BuildError on arbitrary input', () => {
    for (const escape of escapes) {
      for (const options of [{}, { rawQuotes: true, rawEscapes: true }, { skipUnsetEnv: true, skipProcessQuotes: true }]) {
        const lex = new Lex(escape, options);
        fc.assert(
          fc.property(fc.oneof(syntaxHeavy, anyText), envs, (word, env) => {
            for (const run of [() => lex.processWord(word, env), () => lex.processWords(word, env)]) {
              try {
                run();
              } catch (e) {
                expect(e).toBeInstanceOf(BuildError);
                expect(['BAD_VARIABLE', 'REQUIRED_VARIABLE']).toContain((e as BuildError).code);
              }
            }
          }),
          { numRuns: 500 },
        );
      }
    }
  });

  it('agrees between processWord and processWordWithMatches', () => {
    const lex = new Lex('\\');
    fc.assert(
      fc.property(syntaxHeavy, envs, (word, env) => {
        let single: string | BuildError;
        try {
          single = lex.processWord(word, env);
        } catch (e) {
          single = e as BuildError;
        }
        if (typeof single === 'string') expect(lex.processWordWithMatches(word, env).result).toBe(single);
        else expect(() => lex.processWordWithMatches(word, env)).toThrow(single.message);
      }),
    );
  });
});
