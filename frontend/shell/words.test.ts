import { describe, expect, it } from 'vitest';
import { Lex, envFromList } from './index.js';

const env = envFromList(['ONE=1', 'TWO=a b', 'PADDED=  x  y  ', 'EMPTY=', 'TABS=p\tq\u00a0r\u2003s', 'PORTS=80/tcp 443/tcp']);
const lex = new Lex('\\');
const words = (word: string, l: Lex = lex): string[] => l.processWords(word, env);

describe('Lex.processWords', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['  a  ', ['a']],
    ['', []],
    ['   ', []],
    ['a\tb\nc', ['a', 'b', 'c']],
    ['a\u00a0b\u3000c\u0085d', ['a', 'b', 'c', 'd']], // Go's unicode.IsSpace
    ['a\ufeffb', ['a\ufeffb']], // U+FEFF is not a space in Go
    // quotes and escapes protect white space
    ['"a b" c', ['a b', 'c']],
    ["'a b'c d", ['a bc', 'd']],
    ['a\\ b c', ['a b', 'c']],
    ['x"  "y', ['x  y']],
    // empty quotes make no word on their own
    ['"" a', ['a']],
    ["''", []],
    ['a "" b', ['a', 'b']],
    // expansions split; quoted expansions do not
    ['$TWO', ['a', 'b']],
    ['"$TWO"', ['a b']],
    ['x${TWO}y', ['xa', 'by']],
    ['x$PADDED', ['x', 'x', 'y']],
    ['"$PADDED"', ['  x  y  ']],
    ['$TABS', ['p', 'q', 'r', 's']],
    ['$EMPTY', []],
    ['a $EMPTY b', ['a', 'b']],
    ['$PORTS 8080', ['80/tcp', '443/tcp', '8080']],
    // '<<' and the blanks after it stay with the heredoc marker
    ['cat <<  EOF', ['cat', '<<  EOF']],
    ['a < b', ['a', '<', 'b']],
  ])('%j → %j', (word, want) => {
    expect(words(word)).toEqual(want);
  });

  it('splits with the backtick escape too', () => {
    const tick = new Lex('`');
    expect(words('a` b c\\ d', tick)).toEqual(['a b', 'c\\', 'd']);
  });

  it('keeps quotes in the words with rawQuotes', () => {
    const l = new Lex('\\', { rawQuotes: true });
    expect(words(`"a b" 'c d'`, l)).toEqual(['"a b"', "'c d'"]);
    expect(words(`""`, l)).toEqual(['""']);
  });

  it('gives the same words from processWordWithMatches', () => {
    const r = lex.processWordWithMatches('a "$TWO" $TWO', env);
    expect(r.words).toEqual(['a', 'a b', 'a', 'b']);
    expect(r.result).toBe('a a b a b');
  });

  // BuildKit quirk, kept on purpose: the reader of a modifier's word (${a:-w}, ${a#p},
  // ${a/p/r}, …) reuses the buffer of the word being split and empties it, so what preceded
  // the expansion in the same word is lost. The single-word result is not affected.
  it('drops the part of a word before ${a<modifier>…}, as BuildKit does', () => {
    expect(words('pre${UNSET:-80}')).toEqual(['80']);
    expect(words('a pre${ONE#x}post')).toEqual(['a', '1post']);
    expect(words('pre"${UNSET:-x}"')).toEqual(['x']);
    expect(words('pre${ONE}')).toEqual(['pre1']); // plain references are fine
    expect(lex.processWord('pre${UNSET:-80}', env)).toBe('pre80');
  });
});
