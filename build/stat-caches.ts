/** One stat cache per context directory a build reads, opened only when a step first reads it. */
import { StatCache } from '../solver/ops/index.js';
import type { State } from './state.js';

export class StatCaches {
  private readonly open = new Map<string, Promise<StatCache>>();
  constructor(private readonly state: State) {}

  /** The opener of `dir`'s stat cache, as an op takes it: nothing is read until it is called. */
  of(dir: string): () => Promise<StatCache> {
    return () => {
      let c = this.open.get(dir);
      if (c === undefined) {
        c = StatCache.open(this.state.statCacheFile(dir));
        this.open.set(dir, c);
      }
      return c;
    };
  }

  /** Writes back every cache that was opened; best effort (a lost cache costs a rehash). */
  async saveAll(): Promise<void> {
    for (const c of this.open.values()) await (await c).save().catch(() => {});
  }
}
