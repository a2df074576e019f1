/**
 * A local directory as a filesystem of its own (`FROM name` with `--build-context name=DIR`):
 * everything it holds, owners reset to 0:0, its .dockerignore applied. Keyed by the content
 * of the whole directory.
 */
import { digestOf, type CacheMap, type ExecContext, type Op } from '../core/index.js';
import { checksumPaths, EntryDigests } from './context/index.js';
import { contextXattrs } from './context-xattrs.js';
import type { LocalContext, OpStore } from './deps.js';
import { copy } from './file/index.js';
import { changeSnapshot } from './mounted.js';
import type { Ref } from './ref.js';

export class LocalSourceOp implements Op<Ref> {
  readonly spec = { kind: 'local' };
  constructor(
    private readonly store: Pick<OpStore, 'snapshots' | 'tmpDir'>,
    private readonly context: LocalContext,
  ) {}

  async cacheMap(cx: { signal: AbortSignal }): Promise<CacheMap<Ref>> {
    const entries = new EntryDigests();
    const sum = await checksumPaths(this.context.dir, ['/'], {
      followLinks: true,
      entries,
      xattrs: contextXattrs,
      ...(this.context.ignore === undefined ? {} : { matcher: this.context.ignore }),
      ...(this.context.statCache === undefined ? {} : { statCache: await this.context.statCache() }),
      signal: cx.signal,
    });
    return { opDigest: digestOf({ op: this.spec, context: sum }), inputs: [], explain: { fields: {}, files: entries.result(sum) } };
  }

  async execute(_inputs: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const ctx = this.context;
    const snapshot = await changeSnapshot(this.store, null, async (dest) => {
      await copy({
        destRoot: dest,
        dest: '/',
        workdir: '/',
        source: { root: ctx.dir, ownership: 'reset', ...(ctx.ignore === undefined ? {} : { ignore: ctx.ignore }) },
        sources: ['/'],
        xattrs: contextXattrs,
        signal: cx.signal,
      });
    });
    return { snapshot };
  }
}
