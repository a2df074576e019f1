/** Building vertices: the digest of a vertex covers its op and, in order, its inputs. */
import { digestOf } from './digest.js';
import type { Op, Vertex, VertexMeta } from './types.js';

export function vertex<R>(op: Op<R>, inputs: readonly Vertex<R>[], meta: VertexMeta): Vertex<R> {
  const digest = digestOf({ op: op.spec, inputs: inputs.map((i) => i.digest) });
  return { digest, op, inputs, meta };
}
