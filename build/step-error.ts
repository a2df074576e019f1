import { BuildError, type SourceRange } from '../errors/index.js';
import { VertexError } from '../solver/core/index.js';

/** A solver failure as the user should see it: the step's Dockerfile range and its name. */
export function stepError(e: unknown): unknown {
  if (!(e instanceof VertexError)) return e;
  const cause = e.cause;
  const range = e.origin as SourceRange | undefined;
  if (cause instanceof BuildError) {
    if (cause.range !== undefined) return cause;
    return new BuildError(cause.code, `${e.vertexName}: ${cause.message}`, {
      ...(cause.hint === undefined ? {} : { hint: cause.hint }),
      ...(range === undefined ? {} : { range }),
    }, { cause });
  }
  return new BuildError('IO', `${e.vertexName}: ${e.message}`, range === undefined ? {} : { range }, { cause });
}
