import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { Lex, ShellError, envFromList } from './index.js';

const env = envFromList(['HOME=/root', 'EMPTY=', 'NAME=tsbuild', 'SPACED=a  b', 'FILE=archive.tar.gz', 'PATHS=/usr/local/bin:/usr/bin']);
const lex = new Lex('\\');
const tick = new Lex('`');

function expand(word: string, l: Lex = lex): string {
  return l.processWord(word, env);
}

function failure(word: string, l: Lex = lex): ShellError {
  try {
    l.processWord(word, env);
  } catch (e) {
    if (e instanceof ShellError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(word)} to fail`);
}

describe('Lex.processWord: plain references', () => {
  it.each([
    ['$HOME', '/root'],
    ['${HOME}', '/root'],
    ['x$HOME/y', 'x/root/y'],
    ['${NAME}s', 'tsbuilds'],
    ['$NAMEs', ''], // the name runs as long as letters, digits and '_' do
    ['$UNSET', ''],
    ['${UNSET}', ''],
    ['$', '$'],
    ['a$', 'a$'],
    ['$.x', '$.x'],
    ['$-x', 'x'], // special parameters are never set
    ['$1x', 'x'],
    ['$123x', 'x'],
    ['${12}x', 'x'],
    ['$@$*$#$?$$$!$0', ''],
    ['${HOME}}', '/root}'],
    ['$é', ''], // names may hold any Unicode letter
    ['a$-', 'a'],
  ])('%j → %j', (word, want) => {
    expect(expand(word)).toBe(want);
  });

  it('compares names case-sensitively', () => {
    expect(expand('$home$Home$HOME')).toBe('/root');
  });

  it('accepts a KEY=VALUE list and a Map alike; the last entry wins; KEY alone is set and empty', () => {
    expect(lex.processWord('$A-${B?}-$C', ['A=1', 'B', 'A=2'])).toBe('2--');
    expect(lex.processWord('$A', new Map([['A', 'm']]))).toBe('m');
    expect(lex.processWord('$A', ['A=x=y'])).toBe('x=y');
  });
});

describe('Lex.processWord: modifiers', () => {
  it.each([
    // default / alternative, with and without ':'
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${NAME:-d}', 'tsbuild'],
    ['${UNSET-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET:+a}', ''],
    ['${EMPTY:+a}', ''],
    ['${NAME:+a}', 'a'],
    ['${UNSET+a}', ''],
    ['${EMPTY+a}', 'a'],
    ['${NAME?}', 'tsbuild'],
    ['${EMPTY?}', ''],
    ['${NAME:?}', 'tsbuild'],
    // nested words
    ['${UNSET:-$HOME/x}', '/root/x'],
    ['${UNSET:-${NAME:+[$NAME]}}', '[tsbuild]'],
    ['${NAME:+${UNSET:-none}}', 'none'],
    ['${UNSET:-"a  }b"}', 'a  }b'],
    ["${UNSET:-'$HOME'}", '$HOME'],
    ['${UNSET:-a\\}b}', 'a}b'],
    ['${UNSET:-{x}', '{x'],
    ['${UNSET:-a}}', 'a}'],
    // prefix and suffix removal
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${FILE#archive}', '.tar.gz'],
    ['${FILE#nomatch}', 'archive.tar.gz'],
    ['${FILE%?z}', 'archive.tar.'],
    ['${FILE#}', 'archive.tar.gz'],
    ['${FILE##}', 'archive.tar.gz'],
    ['${FILE%%}', 'archive.tar.gz'],
    ['${UNSET#*}', ''],
    ['${PATHS#*:}', '/usr/bin'],
    ['${PATHS%:*}', '/usr/local/bin'],
    ['${FILE#$NAME}', 'archive.tar.gz'],
    ['${FILE%.${UNSET:-gz}}', 'archive.tar'],
    // replacement
    ['${PATHS/usr/opt}', '/opt/local/bin:/usr/bin'],
    ['${PATHS//usr/opt}', '/opt/local/bin:/opt/bin'],
    ['${PATHS//\\//|}', '|usr|local|bin:|usr|bin'],
    ['${PATHS/*:/}', '/usr/bin'],
    ['${FILE//?/x}', 'xxxxxxxxxxxxxx'],
    ['${UNSET/a/b}', ''],
    ['${FILE/#/x}', 'archive.tar.gz'],
  ])('%j → %j', (word, want) => {
    expect(expand(word)).toBe(want);
  });

  it('matches wildcards across the whole value but never across a newline', () => {
    const e = envFromList(['V=ab\ncd']);
    expect(lex.processWord('${V#*}', e)).toBe('ab\ncd');
    expect(lex.processWord('${V##*}', e)).toBe('\ncd');
    expect(lex.processWord('${V%%?d}', e)).toBe('ab\n');
    expect(lex.processWord('${V//?/.}', e)).toBe('..\n..');
  });

  it('takes pattern characters from variables as pattern syntax', () => {
    const e = envFromList(['V=a.b*c', 'P=.?*', 'Q=\\*']);
    expect(lex.processWord('${V#$P}', e)).toBe('a.b*c'); // no leading '.': no match
    expect(lex.processWord('${V//$Q/-}', e)).toBe('a.b-c');
    expect(lex.processWord('${V/./-}', e)).toBe('a-b*c'); // '.' is not a wildcard
  });

  it('escapes regexp-special characters of the pattern', () => {
    const e = envFromList(['V=(a|b)[c]{d}^$+.x']);
    expect(lex.processWord('${V#(a|b)[c]{d\\}^$+.}', e)).toBe('x');
  });

  it('shortest and longest matches differ only with wildcards', () => {
    const e = envFromList(['V=a/b/c']);
    expect(lex.processWord('${V#*/}|${V##*/}|${V%/*}|${V%%/*}', e)).toBe('b/c|c|a/b|a');
  });

  it('works by code point, not UTF-16 unit', () => {
    const e = envFromList(['V=😀ab😀']);
    expect(lex.processWord('${V#?}|${V%?}|${V//?/.}', e)).toBe('ab😀|😀ab|....');
  });
});

describe('Lex.processWord: ${a//p/r} follows Go regexp replacement rules', () => {
  const e = envFromList(['V=abcab', 'R=<$0>']);
  it('$0 and ${0} in the replacement stand for the match, $$ for $', () => {
    expect(lex.processWord('${V//b/$R}', e)).toBe('a<b>ca<b>');
    expect(lex.processWord('${V//b/\\$x}', e)).toBe('a\\ca\\'); // '$x' names no group: empty
    expect(lex.processWord('${V//b/\\$}', e)).toBe('a\\$ca\\$'); // a lone '$' stays
    expect(lex.processWord('${V/b/$R}', e)).toBe('a<$0>cab'); // only replace-all expands
  });
  it('an empty match right after a match is not replaced', () => {
    const f = new Map([
      ['V', 'baaac'],
      ['STAR', '*'],
      ['NONE', ''],
    ]);
    expect(lex.processWord('${V//$STAR/-}', f)).toBe('-'); // String.prototype.replace gives '--'
    expect(lex.processWord('${V//$NONE/-}', f)).toBe('-b-a-a-a-c-');
    expect(lex.processWord('${V//a*/-}', f)).toBe('b-'); // '*' is a wildcard, not a quantifier
    expect(lex.processWord('${V//x/-}', f)).toBe('baaac');
  });
});

describe('Lex.processWord: quotes and escapes', () => {
  it.each([
    ["'$HOME'", '$HOME'],
    ['"$HOME"', '/root'],
    ['"a  b"', 'a  b'],
    ['a"b"c', 'abc'],
    ["a'b'c", 'abc'],
    [`"it's"`, "it's"],
    [`'say "hi"'`, 'say "hi"'],
    ["'a\\'", 'a\\'], // no escapes inside single quotes
    ['"a\\"b"', 'a"b'],
    ['"a\\$HOME"', 'a$HOME'],
    ['"a\\\\b"', 'a\\b'],
    ['"a\\tb"', 'a\\tb'], // other escapes stay as written inside double quotes
    ['a\\tb', 'atb'], // and vanish outside
    ['\\$HOME', '$HOME'],
    ['\\\\$HOME', '\\/root'],
    ["\\'", "'"],
    ['a\\ b', 'a b'],
    ['abc\\', 'abc'], // a trailing escape is dropped
    ['\\${x}', '${x}'],
    ['""', ''],
    ["''", ''],
    ['"${UNSET:-"x"}"', 'x'],
    ['a<b<<  c', 'a<b<<  c'],
  ])('%j → %j', (word, want) => {
    expect(expand(word)).toBe(want);
  });

  it('uses the backtick as the escape character when told, leaving backslashes alone', () => {
    expect(expand('C:\\path\\$NAME', tick)).toBe('C:\\path\\tsbuild');
    expect(expand('`$NAME', tick)).toBe('$NAME');
    expect(expand('a` b', tick)).toBe('a b');
    expect(expand('"a`"b"', tick)).toBe('a"b');
    expect(expand('"a`b"', tick)).toBe('a`b');
    expect(expand('"a\\b"', tick)).toBe('a\\b');
    expect(expand('``', tick)).toBe('`');
    expect(expand('${UNSET:-a`}b}', tick)).toBe('a}b');
  });

  it('keeps escapes in # % and / words, where the pattern reads them with backslash rules', () => {
    const e = envFromList(['V=a*b`c']);
    expect(tick.processWord('${V#a\\*}', e)).toBe('b`c');
    expect(tick.processWord('${V%`c}', e)).toBe('a*b');
  });
});

describe('Lex options', () => {
  it('rawQuotes keeps quote characters', () => {
    const l = new Lex('\\', { rawQuotes: true });
    expect(l.processWord(`"a $NAME" 'b $NAME'`, env)).toBe(`"a tsbuild" 'b $NAME'`);
  });

  it('rawEscapes keeps escape characters', () => {
    const l = new Lex('\\', { rawEscapes: true });
    expect(l.processWord('a\\ b\\$NAME', env)).toBe('a\\ b\\$NAME');
    expect(l.processWord('"\\"q\\t"', env)).toBe('\\"q\\\\t'); // BuildKit writes a kept escape twice
    expect(l.processWord('${UNSET:-\\$x}', env)).toBe('$x'); // a default word never keeps them
  });

  it('skipProcessQuotes treats quotes as ordinary characters', () => {
    const l = new Lex('\\', { skipProcessQuotes: true });
    expect(l.processWord(`"$NAME" '$NAME`, env)).toBe(`"tsbuild" 'tsbuild`);
  });

  it('skipUnsetEnv leaves references to unset variables as written', () => {
    const l = new Lex('\\', { skipUnsetEnv: true });
    expect(l.processWord('$UNSET ${UNSET} ${UNSET:-x} ${UNSET#a} $NAME', env)).toBe(
      '$UNSET ${UNSET} ${UNSET:-x} ${UNSET#a} tsbuild',
    );
    expect(l.processWord('${UNSET:=x}', env)).toBe('${UNSET:=x}'); // not even an error
    expect(l.processWord('${UNSET//a/b}', env)).toBe('${UNSET/a/b}'); // BuildKit writes one '/'
  });

  it('refuses an escape token other than \\ and `', () => {
    expect(() => new Lex('x' as '\\')).toThrow(BuildError);
  });
});

describe('Lex.processWordWithMatches', () => {
  it('reports set and unset variables that were looked up', () => {
    const r = lex.processWordWithMatches('$NAME ${UNSET:-$HOME} ${EMPTY+x} ${NAME:+$OTHER}', env);
    expect(r.result).toBe('tsbuild /root x ');
    expect([...r.matched].sort()).toEqual(['EMPTY', 'HOME', 'NAME']);
    expect([...r.unmatched].sort()).toEqual(['OTHER', 'UNSET']);
  });

  it('does not look up variables in quotes that are not expanded', () => {
    const r = lex.processWordWithMatches("'$A' \\$B plain", env);
    expect(r.matched.size + r.unmatched.size).toBe(0);
    expect(r.words).toEqual(['$A', '$B', 'plain']);
  });

  it('evaluates the word of a modifier whatever the variable holds', () => {
    const r = lex.processWordWithMatches('${NAME:-$UNSET}', env);
    expect(r.result).toBe('tsbuild');
    expect([...r.unmatched]).toEqual(['UNSET']);
  });
});

describe('errors', () => {
  it.each([
    // [word, reason]
    ['${', "syntax error: missing '}'"],
    ['${NAME', 'unsupported modifier (\uFFFD) in substitution'],
    ['${NAME:-x', "syntax error: missing '}'"],
    ['${NAME:-${x}', "syntax error: missing '}'"],
    ['${}', 'syntax error: bad substitution'],
    ['${:-x}', 'syntax error: bad substitution'],
    ['${{x}}', 'syntax error: bad substitution'],
    ['${.}', 'unsupported modifier (.) in substitution'],
    ['${NAME=x}', 'unsupported modifier (=) in substitution'],
    ['${NAME:=x}', 'unsupported modifier (:=) in substitution'],
    ['${NAME:#x}', 'unsupported modifier (:#) in substitution'],
    ['${NAME:%%x}', 'unsupported modifier (:%) in substitution'],
    ['${NAME:}}', 'unsupported modifier (:}) in substitution'],
    ['${NAME:=x', "syntax error: missing '}'"], // the word is read before ':=' is refused
    ['${NAME/x', "syntax error: missing '/' in ${}"],
    ['${NAME/x/y', "syntax error: missing '}'"],
    ['${NAME/x}', "syntax error: missing '/' in ${}"], // the replacement is not optional
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
    ['"abc\\"', 'unexpected end of statement while looking for matching double-quote'],
    ["${UNSET:-'x}", "syntax error: missing '}'"],
    ['${NAME#\\x}', 'invalid pattern (\\x) in substitution: invalid escape \'\\x\''],
    ['${NAME%a\\x}', 'invalid pattern (\\xa) in substitution: invalid escape \'\\x\''], // reversed
  ])('%j fails with %j', (word, reason) => {
    const e = failure(word);
    expect(e).toBeInstanceOf(BuildError);
    expect(e.code).toBe('BAD_VARIABLE');
    expect(e.reason).toBe(reason);
    expect(e.message).toBe(`failed to process ${JSON.stringify(word)}: ${reason}`);
  });

  it.each([
    ['${UNSET?}', 'UNSET: is not allowed to be unset'],
    ['${UNSET:?}', 'UNSET: is not allowed to be unset'],
    ['${EMPTY:?}', 'EMPTY: is not allowed to be empty'],
    ['${UNSET?set it}', 'UNSET: set it'],
    ['${EMPTY:?need $NAME}', 'EMPTY: need tsbuild'],
  ])('%j requires a value: %j', (word, reason) => {
    const e = failure(word);
    expect(e.code).toBe('REQUIRED_VARIABLE');
    expect(e.reason).toBe(reason);
  });

  it('an error inside an unclosed ${ becomes a missing }', () => {
    expect(failure('${NAME:-${UNSET?x}').reason).toBe("syntax error: missing '}'");
    expect(failure('${NAME:-${UNSET?x}}').reason).toBe('UNSET: x');
  });

  it('quotes the word as Go does', () => {
    expect(failure('"\t\u00a0é\u0001😀').message).toBe(
      'failed to process "\\"\\t\\u00a0é\\x01😀": unexpected end of statement while looking for matching double-quote',
    );
  });

  it('gives the offset of the failing expansion or quote', () => {
    expect(failure('ab${UNSET?}').offset).toBe(2);
    expect(failure("ab 'cd").offset).toBe(3);
    expect(failure('😀${NAME:-${UNSET:?}}').offset).toBe(10); // UTF-16 units
    expect(failure('😀${NAME:-${UNSET:?}').offset).toBe(2); // became the outer missing '}'
  });

  it('keeps what was looked up before failing, and its offset through at()', () => {
    const e = failure('$NAME ${UNSET:?}');
    expect([...e.matched]).toEqual(['NAME']);
    expect([...e.unmatched]).toEqual(['UNSET']);
    const range = { file: 'Dockerfile', start: { line: 1, column: 1 }, end: { line: 1, column: 5 } };
    const placed = e.at(range);
    expect(placed).toBeInstanceOf(ShellError);
    expect(placed.range).toBe(range);
    expect(placed.offset).toBe(6);
    expect(placed.message).toBe(e.message);
  });
});

describe('byte order mark', () => {
  it('is dropped at the very start of a word, as Go text/scanner does, and kept elsewhere', () => {
    expect(expand('\ufeffab')).toBe('ab');
    expect(expand('a\ufeffb')).toBe('a\ufeffb');
    expect(lex.processWords('\ufeff a', env)).toEqual(['a']);
  });
});
