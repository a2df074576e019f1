/** Test helpers: build instruction nodes from Dockerfile text and capture BuildErrors. */
import { BuildError } from '../../errors/index.js';
import { parseDockerfile } from '../index.js';
import type { InstructionNode } from '../parser/ast.js';

/** The instruction nodes of a Dockerfile text. */
export function nodes(src: string): readonly InstructionNode[] {
  return parseDockerfile(src, { file: 'Dockerfile' }).ast.instructions;
}

/** The last instruction node of a Dockerfile text. */
export function lastNode(src: string): InstructionNode {
  const all = nodes(src);
  return all[all.length - 1]!;
}

/** What a failing call threw, as plain data (fails the test when nothing or a non-BuildError was thrown). */
export function thrown(fn: () => unknown): { code: string; message: string; hint?: string; range?: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    const r = e.range;
    return {
      code: e.code,
      message: e.message,
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      ...(r === undefined ? {} : { range: `${r.start.line}:${r.start.column}-${r.end.line}:${r.end.column}` }),
    };
  }
  throw new Error('expected a BuildError');
}
