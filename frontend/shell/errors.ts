import { BuildError, type ErrorCode, type ErrorExtra, type SourceRange } from '../../errors/index.js';
import { goQuote } from './quote.js';

export type ShellErrorCode = Extract<ErrorCode, 'BAD_VARIABLE' | 'REQUIRED_VARIABLE'>;

/**
 * An expansion failure. `message` is BuildKit's text ("failed to process "WORD": REASON");
 * `offset` is the UTF-16 index in the word where the failing `$`-expansion or quote begins,
 * so the caller can turn it into a column. `matched`/`unmatched` are the variables looked
 * up before the failure (BuildKit reports unused build args even for failing words).
 */
export class ShellError extends BuildError {
  declare readonly code: ShellErrorCode;
  readonly word: string;
  readonly reason: string;
  readonly offset: number;
  readonly matched: ReadonlySet<string>;
  readonly unmatched: ReadonlySet<string>;

  constructor(
    code: ShellErrorCode,
    details: {
      readonly word: string;
      readonly reason: string;
      readonly offset: number;
      readonly matched?: ReadonlySet<string>;
      readonly unmatched?: ReadonlySet<string>;
    },
    extra: ErrorExtra = {},
  ) {
    super(code, `failed to process ${goQuote(details.word)}: ${details.reason}`, extra);
    this.word = details.word;
    this.reason = details.reason;
    this.offset = details.offset;
    this.matched = details.matched ?? new Set();
    this.unmatched = details.unmatched ?? new Set();
  }

  override at(range: SourceRange): ShellError {
    return new ShellError(this.code, this, { hint: this.hint, range });
  }
}

/**
 * A failure inside the expander, before it knows the whole word. Not an Error: it never
 * escapes this folder and needs no stack.
 */
export class Failure {
  constructor(
    readonly code: ShellErrorCode,
    readonly reason: string,
    readonly offset: number,
  ) {}
}
