/**
 * Shell-word expansion as BuildKit does it for Dockerfile instructions: variables ($a, ${a},
 * ${a:-w} and the other modifiers), quotes, and the escape character. Not a shell: no
 * command substitution, globbing or arithmetic.
 */
import { BuildError } from '../../errors/index.js';
import { isGoSpace } from './chars.js';
import { toEnvLookup, type Env } from './env.js';
import { Failure, ShellError } from './errors.js';
import { Expander, type ExpanderConfig } from './expander.js';

export type EscapeToken = '\\' | '`';

/** BuildKit's Lex switches, which some instructions turn on. All default to false. */
export interface LexOptions {
  /** Keep quote characters in the output (BuildKit: RawQuotes). */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the output (BuildKit: RawEscapes). */
  readonly rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (BuildKit: SkipProcessQuotes). */
  readonly skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written, e.g. `${A:-x}` (BuildKit: SkipUnsetEnv). */
  readonly skipUnsetEnv?: boolean;
}

export interface ProcessWordResult {
  /** The expanded word. */
  readonly result: string;
  /** The expanded word split at unquoted, unescaped white space. */
  readonly words: readonly string[];
  /** Variables that were referenced and set. */
  readonly matched: ReadonlySet<string>;
  /** Variables that were referenced and not set. */
  readonly unmatched: ReadonlySet<string>;
}

const NO_NAMES: ReadonlySet<string> = new Set();

export class Lex {
  readonly escapeToken: EscapeToken;
  readonly options: Readonly<Required<LexOptions>>;
  private readonly config: ExpanderConfig;
  /** Matches a word that expansion leaves as it is: nothing to expand, quote or escape. */
  private readonly inert: RegExp;
  /** The same for splitting, where `<<` also matters: blanks after it do not split. */
  private readonly inertForWords: RegExp;

  constructor(escapeToken: EscapeToken = '\\', options: LexOptions = {}) {
    if (escapeToken !== '\\' && escapeToken !== '`') {
      throw new BuildError('BAD_DIRECTIVE', `invalid escape token '${String(escapeToken)}' does not match \` or \\`);
    }
    this.escapeToken = escapeToken;
    this.options = {
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
    };
    this.config = {
      escape: escapeToken.charCodeAt(0),
      rawQuotes: this.options.rawQuotes,
      rawEscapes: this.options.rawEscapes,
      processQuotes: !this.options.skipProcessQuotes,
      skipUnsetEnv: this.options.skipUnsetEnv,
    };
    // A leading U+FEFF is dropped by BuildKit, so such a word is not inert.
    const special = '$' + (escapeToken === '\\' ? '\\\\' : '`') + (this.options.skipProcessQuotes ? '' : `'"`);
    this.inert = new RegExp(`^(?!\\uFEFF)[^${special}]*$`);
    this.inertForWords = new RegExp(`^(?!\\uFEFF)[^${special}<]*$`);
  }

  /** Expands one word (as for WORKDIR, USER, ENV values…). Throws ShellError. */
  processWord(word: string, env: Env): string {
    if (this.inert.test(word)) return word;
    return this.expand(word, env, false).result;
  }

  /**
   * Expands, then splits at white space that is neither quoted nor escaped (as for EXPOSE,
   * VOLUME…). Empty words are dropped, so `''` alone gives no word at all.
   */
  processWords(word: string, env: Env): string[] {
    if (this.inertForWords.test(word)) return splitInert(word);
    return this.expand(word, env, true).words;
  }

  /** Expands one word and reports which variables it used; also gives the split words. */
  processWordWithMatches(word: string, env: Env): ProcessWordResult {
    if (this.inertForWords.test(word)) return { result: word, words: splitInert(word), matched: NO_NAMES, unmatched: NO_NAMES };
    return this.expand(word, env, true);
  }

  private expand(word: string, env: Env, split: boolean): ProcessWordResult & { readonly words: string[] } {
    const expander = new Expander(word, toEnvLookup(env), this.config, split);
    try {
      const result = expander.run();
      return { result, words: expander.words, matched: expander.matched, unmatched: expander.unmatched };
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      throw new ShellError(e.code, {
        word,
        reason: e.reason,
        offset: e.offset,
        matched: expander.matched,
        unmatched: expander.unmatched,
      });
    }
  }
}

/** Splitting of a word with nothing to expand: at Go white space, dropping empty pieces. */
function splitInert(word: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < word.length; i++) {
    if (isGoSpace(word.charCodeAt(i))) {
      if (start >= 0) words.push(word.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) words.push(word.slice(start));
  return words;
}
