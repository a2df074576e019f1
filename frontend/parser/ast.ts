/**
 * The Dockerfile syntax tree: one node per instruction, with every value decoded to an
 * ordinary string and every node carrying where it came from. Plain data, serialisable.
 */
import type { SourceRange } from '../../errors/index.js';

export interface Flag {
  /** As BuildKit extracts it: `--name=value` with quotes and escapes removed. */
  readonly text: string;
  readonly range: SourceRange;
}

export interface Heredoc {
  /** The delimiter word, quotes removed. */
  readonly name: string;
  /** The body, every line with its line ending, exactly as in the file. */
  readonly content: string;
  /** False when any part of the delimiter was quoted: then nothing in the body is expanded. */
  readonly expand: boolean;
  /** `<<-`: leading tabs are stripped from the body's lines. */
  readonly chomp: boolean;
  /** The file descriptor before `<<` (0 when none was written). */
  readonly fd: number;
}

export interface InstructionNode {
  /** Lower-cased keyword (Go's case rules, so `ENTRYPOİNT` is `entrypoint`). */
  readonly keyword: string;
  readonly keywordRange: SourceRange;
  readonly flags: readonly Flag[];
  /**
   * The arguments as BuildKit's parser splits them; for ENV and LABEL (key, value, sep)
   * triples where sep is "=" or "" for the legacy `KEY value` form.
   */
  readonly args: readonly string[];
  /** The exec / JSON-array form was used. */
  readonly json: boolean;
  /** ONBUILD's nested instruction. */
  readonly onbuild?: InstructionNode;
  readonly heredocs: readonly Heredoc[];
  /** The logical line: continuations joined, comment lines inside it dropped. */
  readonly original: string;
  /** From the keyword to the end of the instruction's last line (heredoc bodies included). */
  readonly range: SourceRange;
  /** Where the arguments (after the flags) start. */
  readonly argsStart: SourceRange['start'];
  /** The comment lines directly above the instruction. */
  readonly comments: readonly string[];
}

export interface ParserDirective {
  readonly name: 'syntax' | 'escape' | 'check';
  readonly value: string;
  readonly range: SourceRange;
}

export interface ParseWarning {
  readonly code: string;
  readonly message: string;
  readonly range: SourceRange;
}

export interface DockerfileAST {
  readonly file: string;
  readonly escape: '\\' | '`';
  readonly directives: readonly ParserDirective[];
  readonly instructions: readonly InstructionNode[];
  readonly warnings: readonly ParseWarning[];
}
