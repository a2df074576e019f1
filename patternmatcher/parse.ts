/**
 * Reading a .dockerignore file the way Docker does (moby/patternmatcher: ignorefile.ReadAll,
 * then the cleanup patternmatcher.New applies). Pure: text in, patterns out.
 */

import { BuildError, type SourceRange } from '../errors/index.js';
import { compilePattern, PatternSyntaxError, type CompiledPattern } from './compile-pattern.js';
import { goClean, goTrimEndIndex, goTrimSpace, goTrimStartIndex } from './go-text.js';

export interface IgnorePattern {
  /** What Docker matches: trimmed, cleaned, without the leading `!` and the leading `/`. */
  readonly pattern: string;
  /** A `!` line: re-includes what earlier lines excluded (the last matching line wins). */
  readonly exception: boolean;
  /** The pattern's text in the ignore file, when it came from one. */
  readonly range?: SourceRange;
}

/** Docker reads the file with a line scanner that fails on a line of 64 KiB or more. */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Parse an ignore file. `fileName` names it in error ranges. Throws BuildError
 * 'BAD_IGNORE_FILE' for a line Docker would refuse, at the first such line.
 */
export function parseIgnoreFile(text: string, fileName: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const lineNumber = index + 1;
    const range = trimmedRange(fileName, lineNumber, line);
    if (Buffer.byteLength(line) + (lines[index]!.length - line.length) >= MAX_LINE_BYTES) {
      throw new BuildError('BAD_IGNORE_FILE', `line ${lineNumber} of ${fileName} is too long`, {
        range,
        hint: 'Docker reads ignore files line by line and gives up on a line of 64 KiB or more.',
      });
    }
    // Only the first line may carry a byte-order mark; a comment is a `#` in column 1, so
    // an indented `# note` is a pattern, as it is for Docker.
    const body = index === 0 && line.startsWith('\uFEFF') ? line.slice(1) : line;
    if (body.startsWith('#')) continue;
    const pattern = normalizeLine(body);
    if (pattern === undefined) continue;
    patterns.push(checkedPattern(pattern, range));
  }
  return patterns;
}

/** ReadAll's cleanup followed by New's: the whole pattern string, `!` included, or undefined. */
function normalizeLine(line: string): string | undefined {
  let pattern = goTrimSpace(line);
  if (pattern === '') return undefined;
  const exception = pattern[0] === '!';
  if (exception) pattern = goTrimSpace(pattern.slice(1));
  if (pattern !== '') {
    pattern = goClean(pattern);
    if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
  }
  if (exception) pattern = '!' + pattern;
  // patternmatcher.New trims and cleans once more, `!` included; it can still change the text
  // (`x /y/..` cleans to `x `, which trims to `x`).
  pattern = goTrimSpace(pattern);
  return pattern === '' ? undefined : goClean(pattern);
}

function checkedPattern(whole: string, range: SourceRange): IgnorePattern {
  const exception = whole[0] === '!';
  if (exception && whole.length === 1) {
    throw new BuildError('BAD_IGNORE_FILE', 'illegal exclusion pattern: "!"', {
      range,
      hint: 'Put the path to re-include after the "!", e.g. "!src/keep.txt".',
    });
  }
  const pattern = exception ? whole.slice(1) : whole;
  compileIgnorePattern(pattern, range);
  return { pattern, exception, range };
}

/** compilePattern, with Docker's refusals as BuildError 'BAD_IGNORE_FILE' at `range`. */
export function compileIgnorePattern(pattern: string, range: SourceRange | undefined): CompiledPattern {
  try {
    return compilePattern(pattern);
  } catch (e) {
    if (!(e instanceof PatternSyntaxError)) throw e;
    throw new BuildError('BAD_IGNORE_FILE', `syntax error in pattern "${pattern}": ${e.message}`, {
      ...(range === undefined ? {} : { range }),
      hint:
        e.offset === undefined
          ? 'Docker turns this pattern into a Go regular expression that does not compile; ' +
            'escape only punctuation with "\\", and write "|", "{" and "}" only in patterns without wildcards.'
          : 'Patterns use Go filepath.Match syntax: negate a class with "^" (as in [^a-z]), ' +
            'write a literal "[", "]", "*" or "?" as "\\[", "\\]", "\\*" or "\\?".',
    });
  }
}

/** The line's text without its surrounding white space (the whole line when it is blank). */
function trimmedRange(file: string, line: number, text: string): SourceRange {
  const start = goTrimStartIndex(text);
  const end = start === text.length ? text.length : goTrimEndIndex(text);
  return {
    file,
    start: { line, column: (start === text.length ? 0 : start) + 1 },
    end: { line, column: end + 1 },
  };
}
