/**
 * An op as done for a platform: the platform joins the op's digest and cache key, as
 * BuildKit keeps it in every op, so a build for another platform never meets this
 * platform's results (a COPY into scratch for arm64 is not the amd64 one).
 */
import { digestOf, type CacheMap, type ExecContext, type KeyContext, type Op } from '../core/index.js';

export class OnPlatform<R> implements Op<R> {
  readonly spec: unknown;
  constructor(
    /** The op itself, for what looks at a step's kind (cache-mount ids of RUN steps). */
    readonly op: Op<R>,
    private readonly platform: string,
  ) {
    this.spec = { platform, op: op.spec };
  }

  async cacheMap(cx: KeyContext): Promise<CacheMap<R>> {
    const map = await this.op.cacheMap(cx);
    return {
      ...map,
      opDigest: digestOf({ platform: this.platform, op: map.opDigest }),
      ...(map.explain === undefined ? {} : { explain: { ...map.explain, fields: { ...map.explain.fields, platform: this.platform } } }),
    };
  }

  execute(inputs: readonly R[], cx: ExecContext): Promise<R> {
    return this.op.execute(inputs, cx);
  }
}
