/** The empty filesystem: no snapshot at all. */
import { digestOf, type CacheMap, type Op } from '../core/index.js';
import type { Ref } from './ref.js';

export class ScratchOp implements Op<Ref> {
  readonly spec = { kind: 'scratch' };
  async cacheMap(): Promise<CacheMap<Ref>> {
    return { opDigest: digestOf(this.spec), inputs: [] };
  }
  async execute(): Promise<Ref> {
    return { snapshot: null };
  }
}
