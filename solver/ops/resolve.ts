/**
 * From op descriptions to ops: `resolveOp` makes the op of one description with its share of
 * the worker's interfaces, `resolveGraph` the solver's vertices of a frontend's graph.
 */
import { vertex, type OpDescription, type OpNode, type Op, type Vertex } from '../core/index.js';
import type { OpDeps } from './deps.js';
import { ExecOp } from './exec-op.js';
import { FileOp } from './file-op.js';
import { ImageSourceOp } from './image-source.js';
import { LocalSourceOp } from './local-source.js';
import { OnPlatform } from './platform-op.js';
import type { Ref } from './ref.js';
import { ScratchOp } from './scratch-source.js';

const scratch = new ScratchOp();

export function resolveOp(description: OpDescription, deps: OpDeps): Op<Ref> {
  switch (description.kind) {
    case 'exec':
      return new ExecOp(deps, description);
    case 'file':
      return new FileOp(deps, description);
    case 'source':
      switch (description.source) {
        case 'scratch':
          return scratch;
        case 'image':
          return new ImageSourceOp(deps, description.ref, description.context);
        case 'local':
          return new LocalSourceOp(deps.store, deps.local(description.name));
      }
  }
}

/** The vertices of a graph of op nodes: one per node (a node reached twice is one vertex). */
export class GraphResolver {
  private readonly vertices = new Map<OpNode, Vertex<Ref>>();
  constructor(private readonly deps: OpDeps) {}

  vertex(node: OpNode): Vertex<Ref> {
    let v = this.vertices.get(node);
    if (v !== undefined) return v;
    const op = resolveOp(node.op, this.deps);
    const inputs = node.inputs.map((i) => this.vertex(i));
    v = vertex<Ref>(node.platform === undefined ? op : new OnPlatform(op, node.platform), inputs, node.meta);
    this.vertices.set(node, v);
    return v;
  }
}

