/**
 * The Dockerfile parser: bytes in, syntax tree out, following BuildKit's parser rule for rule
 * (line continuations with the active escape character, comment and blank lines inside a
 * continuation, parser directives, heredocs, per-instruction argument splitting), so that the
 * same file is accepted or rejected, and dumped, exactly as BuildKit would.
 */
import { BuildError, type ErrorCode, type Pos, type SourceRange } from '../../errors/index.js';
import type { DockerfileAST, Flag, Heredoc, InstructionNode, ParserDirective, ParseWarning } from './ast.js';
import { ArgsError, splitArgs, type SplitArgs } from './args.js';
import { DirectiveScanner, DuplicateDirectiveError } from './directives.js';
import { fromBinary, goQuote, goToLower, trimLeftSpace, trimSpace, utf16Length } from './gostring.js';
import { splitHead, type HeadFlag } from './head.js';
import { findHeredocs, HeredocError, type RawHeredoc } from './heredoc.js';
import { discardBOM, LineReader, trimContinuation, trimNewline, type PhysicalLine } from './lines.js';

/** A piece of a logical line: where its first byte came from. */
interface Segment {
  readonly at: number; // offset in the logical line
  readonly line: number; // 1-based physical line
  readonly column: number; // byte offset in that physical line
}

/** An instruction line as BuildKit's parser sees it; every string a binary string. */
interface RawNode {
  readonly keyword: string;
  readonly flags: readonly HeadFlag[];
  readonly split: SplitArgs;
  readonly sub?: RawNode;
  /** Offset of this node's text in the instruction's logical line. */
  readonly base: number;
  readonly keywordOffset: number;
  readonly argsOffset: number;
}

interface RawInstruction {
  readonly node: RawNode;
  readonly line: string;
  readonly segments: readonly Segment[];
  readonly startLine: number;
  readonly endLine: number;
  readonly endColumn: number; // byte length of the last line without its ending
  readonly heredocs: readonly RawHeredoc[];
  readonly comments: readonly string[];
}

export interface ParseResult {
  readonly ast: DockerfileAST;
  /** The AST in BuildKit's dump format, as bytes (the conformance format). */
  dump(): Buffer;
}

const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);

function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith('#');
}

function parseLine(line: string, escape: string, base: number): RawNode {
  const head = splitHead(line, escape);
  const keyword = goToLower(head.keyword);
  const split = splitArgs(keyword, head.args, escape);
  const node: RawNode = {
    keyword: head.keyword,
    flags: head.flags,
    split,
    base,
    keywordOffset: head.keywordOffset,
    argsOffset: head.argsOffset,
  };
  if (split.subcommand === undefined) return node;
  return { ...node, sub: parseLine(split.subcommand, escape, base + head.argsOffset) };
}

function canContainHeredoc(node: RawNode): boolean {
  const n = goToLower(node.keyword) === 'onbuild' && node.sub !== undefined ? node.sub : node;
  return HEREDOC_KEYWORDS.has(goToLower(n.keyword)) && !n.split.json;
}

/** The source map of one file: byte positions to 1-based line/UTF-16 column. */
class Positions {
  constructor(
    private readonly file: string,
    private readonly lines: readonly PhysicalLine[],
  ) {}

  pos(line: number, byteColumn: number): Pos {
    const text = this.lines[line - 1]?.text ?? '';
    return { line, column: utf16Length(text.slice(0, byteColumn)) + 1 };
  }

  range(startLine: number, startByte: number, endLine: number, endByte: number): SourceRange {
    return { file: this.file, start: this.pos(startLine, startByte), end: this.pos(endLine, endByte) };
  }

  lineRange(line: number): SourceRange {
    const text = trimNewline(this.lines[line - 1]?.text ?? '');
    return this.range(line, 0, line, text.length);
  }

  /** The physical position of a byte offset in an instruction's logical line. */
  at(segments: readonly Segment[], offset: number): [number, number] {
    let seg = segments[0] ?? { at: 0, line: 1, column: 0 };
    for (const s of segments) {
      if (s.at > offset) break;
      seg = s;
    }
    return [seg.line, seg.column + (offset - seg.at)];
  }
}

export interface ParseOptions {
  /** The name errors and ranges use for the file. */
  readonly file?: string;
}

/** Parse a Dockerfile. Throws BuildError (code DOCKERFILE_SYNTAX / DOCKERFILE_EMPTY). */
export function parseDockerfile(source: Uint8Array | string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? 'Dockerfile';
  const data =
    typeof source === 'string' ? Buffer.from(source, 'utf8').toString('latin1') : Buffer.from(source).toString('latin1');
  const reader = new LineReader(data);
  const physical: PhysicalLine[] = [];
  const positions = new Positions(file, physical);
  const readLine = (): PhysicalLine | undefined => {
    const l = reader.next();
    if (l !== undefined) physical.push(l);
    return l;
  };
  const fail = (code: ErrorCode, message: string, range: SourceRange, hint?: string): never => {
    throw new BuildError(code, fromBinary(message), hint === undefined ? { range } : { range, hint });
  };

  let escape = '\\';
  const directives = new DirectiveScanner();
  const parserDirectives: ParserDirective[] = [];
  const warnings: ParseWarning[] = [];
  const raws: RawInstruction[] = [];
  let comments: string[] = [];

  // The directive scanner sees every line that goes through BuildKit's processLine: the first
  // line of an instruction (left-trimmed) and each continuation line (as is).
  const scanDirective = (text: string, lineNo: number): boolean => {
    let d;
    try {
      d = directives.scan(text);
    } catch (e) {
      if (e instanceof DuplicateDirectiveError) {
        return fail('BAD_DIRECTIVE', e.message, positions.lineRange(lineNo), 'remove the repeated directive line');
      }
      throw e;
    }
    if (d === undefined) return false;
    const range = positions.lineRange(lineNo);
    if (d.name === 'escape') {
      if (d.value !== '`' && d.value !== '\\') {
        fail('BAD_DIRECTIVE', `invalid escape token '${d.value}' does not match \` or \\`, range, 'use "# escape=\\" or "# escape=`"');
      }
      escape = d.value;
    }
    parserDirectives.push({ name: d.name, value: fromBinary(d.value), range });
    return true;
  };

  for (let first = readLine(); first !== undefined; first = readLine()) {
    const lineNo = reader.count;
    let text = first.text;
    let leadTrim = 0;
    if (lineNo === 1) {
      const noBom = discardBOM(text);
      leadTrim = text.length - noBom.length;
      text = noBom;
    }
    if (isComment(text)) {
      const c = fromBinary(trimSpace(trimLeftSpace(text).slice(1)));
      comments = c === '' ? [] : [...comments, c];
    }
    text = trimNewline(text);
    const trimmed = trimLeftSpace(text);
    leadTrim += text.length - trimmed.length;
    if (scanDirective(trimmed, lineNo)) comments.pop();
    const content = isComment(trimmed) ? '' : trimmed;

    const startLine = lineNo;
    const head = trimContinuation(content, escape);
    if (!head.continues && head.text.length === 0) continue;

    let logical = head.text;
    const segments: Segment[] = [{ at: 0, line: lineNo, column: leadTrim }];
    let continues = head.continues;
    let lastLine = lineNo;
    let emptyContinuation = false;
    while (continues) {
      const next = readLine();
      if (next === undefined) break;
      const n = reader.count;
      lastLine = n;
      const raw = trimNewline(next.text);
      scanDirective(raw, n);
      if (isComment(next.text)) continue;
      if (trimLeftSpace(raw).length === 0) {
        emptyContinuation = true;
        continue;
      }
      const part = trimContinuation(raw, escape);
      continues = part.continues;
      segments.push({ at: logical.length, line: n, column: 0 });
      logical += part.text;
    }
    if (emptyContinuation) {
      warnings.push({
        code: 'NoEmptyContinuation',
        message: `Empty continuation line found in: ${fromBinary(logical)}`,
        range: positions.lineRange(lastLine),
      });
    }

    const instrRange = (): SourceRange => {
      const endText = trimNewline(physical[lastLine - 1]?.text ?? '');
      return positions.range(startLine, leadTrim, lastLine, endText.length);
    };
    let node: RawNode;
    try {
      node = parseLine(logical, escape, 0);
    } catch (e) {
      if (e instanceof ArgsError) return fail('DOCKERFILE_SYNTAX', e.message, instrRange());
      throw e;
    }

    const heredocs: RawHeredoc[] = [];
    if (canContainHeredoc(node) && logical.includes('<<')) {
      let found: RawHeredoc[];
      try {
        found = findHeredocs(logical);
      } catch (e) {
        if (e instanceof HeredocError) return fail('DOCKERFILE_SYNTAX', e.message, instrRange());
        throw e;
      }
      for (const h of found) {
        let body = '';
        let terminated = false;
        for (let l = readLine(); l !== undefined; l = readLine()) {
          lastLine = reader.count;
          let candidate = trimNewline(l.text);
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          body += l.text;
        }
        if (!terminated) {
          fail('DOCKERFILE_SYNTAX', 'unterminated heredoc', instrRange(), `end the heredoc with a line holding only "${fromBinary(h.name)}"`);
        }
        heredocs.push({ ...h, content: body });
      }
    }

    const endText = trimNewline(physical[lastLine - 1]?.text ?? '');
    raws.push({
      node,
      line: logical,
      segments,
      startLine,
      endLine: lastLine,
      endColumn: endText.length,
      heredocs,
      comments,
    });
    comments = [];
  }

  if (raws.length === 0) {
    const last = Math.max(1, reader.count);
    fail('DOCKERFILE_EMPTY', 'file with no instructions', positions.lineRange(last), 'a Dockerfile needs at least a FROM instruction');
  }
  if (reader.tooLong) {
    const n = reader.count + 1;
    throw new BuildError('DOCKERFILE_SYNTAX', 'dockerfile line greater than max allowed size of 65535', {
      range: { file, start: { line: n, column: 1 }, end: { line: n, column: 1 } },
      hint: 'split the line with line continuations',
    });
  }

  const instructions = raws.map((r) => toInstruction(r, r.node, positions));
  const ast: DockerfileAST = {
    file,
    escape: escape as '\\' | '`',
    directives: parserDirectives,
    instructions,
    warnings,
  };
  return { ast, dump: () => Buffer.from(dumpRaw(raws), 'latin1') };
}

function toInstruction(r: RawInstruction, node: RawNode, positions: Positions): InstructionNode {
  const file = positions;
  const rangeAt = (from: number, to: number): SourceRange => {
    const [l1, c1] = file.at(r.segments, node.base + from);
    const [l2, c2] = file.at(r.segments, node.base + to);
    return positions.range(l1, c1, l2, c2);
  };
  const flags: Flag[] = node.flags.map((f) => ({ text: fromBinary(f.text), range: rangeAt(f.start, f.end) }));
  const keywordRange = rangeAt(node.keywordOffset, node.keywordOffset + node.keyword.length);
  const heredocs: Heredoc[] =
    node === r.node || node === r.node.sub
      ? r.heredocs.map((h) => ({
          name: fromBinary(h.name),
          content: fromBinary(h.content),
          expand: h.expand,
          chomp: h.chomp,
          fd: h.fd,
        }))
      : [];
  const sub = node.sub === undefined ? undefined : toInstruction(r, node.sub, positions);
  const end = positions.pos(r.endLine, r.endColumn);
  return {
    keyword: fromBinary(goToLower(node.keyword)),
    keywordRange,
    flags,
    args: node.split.args.map(fromBinary),
    json: node.split.json,
    ...(sub === undefined ? {} : { onbuild: sub }),
    heredocs: sub === undefined ? heredocs : [],
    original: fromBinary(r.line),
    range: { file: keywordRange.file, start: keywordRange.start, end },
    argsStart: rangeAt(node.argsOffset, node.argsOffset).start,
    comments: r.comments,
  };
}

function dumpNode(node: RawNode): string {
  let s = goToLower(node.keyword);
  if (node.flags.length > 0) s += ' [' + node.flags.map((f) => goQuote(f.text)).join(' ') + ']';
  for (const a of node.split.args) s += ' ' + goQuote(a);
  if (node.sub !== undefined) s += ' (' + dumpNode(node.sub) + ')';
  return trimSpace(s); // the dump trims every node (strings.TrimSpace)
}

function dumpRaw(raws: readonly RawInstruction[]): string {
  let out = '';
  for (const r of raws) out += '(' + dumpNode(r.node) + ')\n';
  return out;
}
