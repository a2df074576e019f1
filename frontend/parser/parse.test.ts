import { describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { parseDockerfile } from './parse.js';

const parse = (text: string) => parseDockerfile(text, { file: 'Dockerfile' });
const dump = (text: string) => parse(text).dump().toString('utf8');
const errorOf = (text: string | Uint8Array): BuildError => {
  try {
    parseDockerfile(text, { file: 'Dockerfile' });
  } catch (e) {
    if (e instanceof BuildError) return e;
    throw e;
  }
  throw new Error('expected the parser to reject the file');
};

describe('heredocs', () => {
  it('reads a RUN heredoc body and keeps it out of the dump', () => {
    const r = parse('FROM busybox\nRUN <<EOF\necho hello\necho world\nEOF\nCMD ["x"]\n');
    expect(r.dump().toString()).toBe('(from "busybox")\n(run "<<EOF")\n(cmd "x")\n');
    const run = r.ast.instructions[1]!;
    expect(run.heredocs).toEqual([{ name: 'EOF', content: 'echo hello\necho world\n', expand: true, chomp: false, fd: 0 }]);
    expect(run.range.start.line).toBe(2);
    expect(run.range.end.line).toBe(5);
  });

  it('strips tabs from the terminator of <<- and records chomp', () => {
    const r = parse('FROM a\nRUN <<-EOT\n\techo hi\n\t\tEOT\n');
    expect(r.ast.instructions[1]!.heredocs[0]).toMatchObject({ name: 'EOT', chomp: true, content: '\techo hi\n' });
  });

  it('turns expansion off when the delimiter is quoted, wholly or in part', () => {
    for (const marker of ['<<"EOF"', "<<'EOF'", '<<E"O"F', '<<-"EOF"']) {
      const r = parse(`FROM a\nRUN ${marker}\necho $HOME\nEOF\n`);
      expect(r.ast.instructions[1]!.heredocs[0]!.expand).toBe(false);
      expect(r.ast.instructions[1]!.heredocs[0]!.name).toBe('EOF');
    }
  });

  it('reads several heredocs of one instruction in order, with file descriptors', () => {
    const r = parse('FROM a\nCOPY <<one.txt <<two.txt /dest/\nfirst\none.txt\nsecond\ntwo.txt\nRUN 3<<X cat <&3\nx\nX\n');
    const copy = r.ast.instructions[1]!;
    expect(copy.heredocs.map((h) => [h.name, h.content])).toEqual([
      ['one.txt', 'first\n'],
      ['two.txt', 'second\n'],
    ]);
    expect(r.ast.instructions[2]!.heredocs[0]).toMatchObject({ name: 'X', fd: 3, content: 'x\n' });
    expect(r.ast.instructions).toHaveLength(3);
  });

  it('finds heredocs on ADD and inside ONBUILD, not on other instructions or in exec form', () => {
    const r = parse('FROM a\nADD <<E /f\nbody\nE\nONBUILD RUN <<E\nx\nE\nLABEL a=<<E\nRUN ["<<E"]\n');
    expect(r.ast.instructions[1]!.heredocs).toHaveLength(1);
    expect(r.ast.instructions[2]!.onbuild?.heredocs[0]?.content).toBe('x\n');
    expect(r.ast.instructions[3]!.heredocs).toHaveLength(0);
    expect(r.ast.instructions[4]!.heredocs).toHaveLength(0);
    expect(r.dump().toString()).toBe(
      '(from "a")\n(add "<<E" "/f")\n(onbuild (run "<<E"))\n(label "a" "<<E" "=")\n(run "<<E")\n',
    );
  });

  it('keeps CRLF line endings inside the body and matches a CRLF terminator', () => {
    const r = parse('FROM a\r\nRUN <<EOF\r\nline\r\nEOF\r\nCMD x\r\n');
    expect(r.ast.instructions[1]!.heredocs[0]!.content).toBe('line\r\n');
    expect(r.ast.instructions).toHaveLength(3);
  });

  it('rejects an unterminated heredoc at the instruction', () => {
    const e = errorOf('FROM a\nRUN <<EOF\necho\n');
    expect(e.message).toBe('unterminated heredoc');
    expect(e.range?.start).toEqual({ line: 2, column: 1 });
    expect(e.hint).toContain('EOF');
  });
});

describe('lines, continuations and directives', () => {
  it('joins continuations and drops comment and blank lines inside them, with a warning for blanks', () => {
    const r = parse('FROM a\nRUN echo a \\\n# comment\n\n  b\n');
    expect(r.dump().toString()).toBe('(from "a")\n(run "echo a   b")\n');
    expect(r.ast.warnings.map((w) => w.code)).toEqual(['NoEmptyContinuation']);
  });

  it('switches the escape character with the escape directive, in any case and spacing', () => {
    expect(dump('#  ESCAPE = `\nFROM a\nRUN dir `\n  c:\\\n')).toBe('(from "a")\n(run "dir   c:\\\\")\n');
    expect(parse('# escape=`\nFROM a\n').ast.escape).toBe('`');
  });

  it('stops recognising directives after the first other line', () => {
    expect(parse('\n# escape=`\nFROM a\n').ast.escape).toBe('\\');
    expect(parse('# foo=bar\n# escape=`\nFROM a\n').ast.escape).toBe('\\');
    expect(parse('# syntax=x\n# escape=`\nFROM a\n').ast.directives.map((d) => d.name)).toEqual(['syntax', 'escape']);
  });

  it('rejects a repeated directive and an invalid escape character with the line', () => {
    const dup = errorOf('# escape=`\n# escape=`\nFROM a\n');
    expect(dup.message).toBe('only one escape parser directive can be used');
    expect(dup.range?.start.line).toBe(2);
    expect(errorOf('# escape=^\nFROM a\n').message).toBe("invalid escape token '^' does not match ` or \\");
  });

  it('lower-cases keywords the way Go does', () => {
    expect(dump('FROM a\nENTRYPOİNT ["x"]\n')).toBe('(from "a")\n(entrypoint "x")\n');
    expect(dump('from a\nRuN x\n')).toBe('(from "a")\n(run "x")\n');
  });

  it('quotes arguments the way Go does, including invalid UTF-8', () => {
    const data = Buffer.concat([Buffer.from('FROM a\nRUN x\t'), Buffer.from([0xff]), Buffer.from(' é\u00a0\\"\n')]);
    expect(parseDockerfile(data).dump().toString('latin1')).toBe(
      '(from "a")\n(run "x\\t\\xff ' + Buffer.from('é', 'utf8').toString('latin1') + '\\u00a0\\\\\\"")\n',
    );
  });

  it('strips one byte-order mark at the start only', () => {
    expect(dump('\ufeffFROM a\n')).toBe('(from "a")\n');
    expect(dump('FROM a\n\ufeffRUN x\n')).toBe('(from "a")\n(\ufeffrun "")\n');
  });

  it('keeps unknown instructions with one empty argument (they are rejected later)', () => {
    expect(dump('FROM a\nFOO bar\n')).toBe('(from "a")\n(foo "")\n');
  });

  it('rejects a file with no instructions and lines over 64 KiB', () => {
    expect(errorOf('# just a comment\n\n').code).toBe('DOCKERFILE_EMPTY');
    const long = errorOf('FROM a\nRUN ' + 'x'.repeat(70_000) + '\n');
    expect(long.message).toBe('dockerfile line greater than max allowed size of 65535');
    expect(long.range?.start.line).toBe(2);
  });
});

describe('flags and arguments', () => {
  it('extracts flags with quotes and escapes removed and keeps their source range', () => {
    const r = parse('FROM a\nCOPY --from="build stage" --chown=1:1 \\\n  --chmod=755 src dst\n');
    const copy = r.ast.instructions[1]!;
    expect(copy.flags.map((f) => f.text)).toEqual(['--from=build stage', '--chown=1:1', '--chmod=755']);
    expect(copy.flags[0]!.range.start).toEqual({ line: 2, column: 6 });
    expect(copy.flags[2]!.range.start).toEqual({ line: 3, column: 3 });
    expect(copy.args).toEqual(['src', 'dst']);
    expect(copy.argsStart).toEqual({ line: 3, column: 15 });
  });

  it('ends flags at a bare --', () => {
    expect(dump('FROM a\nRUN --network=none -- --not-a-flag\n')).toBe(
      '(from "a")\n(run ["--network=none"] "--not-a-flag")\n',
    );
  });

  it('splits ENV and LABEL into triples, legacy and key=value forms', () => {
    expect(dump('FROM a\nENV A b c\nENV B="x y" C=z\n')).toBe(
      '(from "a")\n(env "A" "b c" "")\n(env "B" "\\"x y\\"" "=" "C" "z" "=")\n',
    );
  });

  it('rejects JSON arrays of non-strings but treats other bad JSON as the shell form', () => {
    expect(errorOf('FROM a\nCMD ["a", 1]\n').message).toBe(
      'when using JSON array syntax, arrays must be comprised of strings only',
    );
    expect(dump("FROM a\nCMD ['a']\n")).toBe('(from "a")\n(cmd "[\'a\']")\n');
    expect(parse('FROM a\nCMD ["a", "b"]\n').ast.instructions[1]!.json).toBe(true);
  });

  it('nests ONBUILD instructions', () => {
    const r = parse('FROM a\nONBUILD --x RUN --mount=type=tmpfs,target=/t echo\n');
    expect(r.dump().toString()).toBe('(from "a")\n(onbuild ["--x"] (run ["--mount=type=tmpfs,target=/t"] "echo"))\n');
    const sub = r.ast.instructions[1]!.onbuild!;
    expect(sub.keyword).toBe('run');
    expect(sub.keywordRange.start).toEqual({ line: 2, column: 13 });
    expect(sub.flags[0]!.range.start).toEqual({ line: 2, column: 17 });
  });
});
