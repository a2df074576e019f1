import { describe, expect, it } from 'vitest';
import { pruneOrder } from './prune.js';

const e = (name: string, lastUsed: number, count: number) => ({ name, lastUsed, count });

describe('pruneOrder (BuildKit\'s ranking of what keep-storage removes first)', () => {
  it('with equal use counts, the least recently used goes first', () => {
    expect(pruneOrder([e('c', 300, 1), e('a', 100, 1), e('b', 200, 1)]).map((x) => x.name)).toEqual(['a', 'b', 'c']);
  });

  it('weighs recency with how often a snapshot was used', () => {
    // a: time 2/4 + count 3/3 = 1.5; b: 3/4 + 2/3 ≈ 1.42; c: 4/4 + 2/3 ≈ 1.67. The snapshot
    // used three times outlives the more recent one used once.
    expect(pruneOrder([e('a', 100, 3), e('b', 200, 1), e('c', 300, 1)]).map((x) => x.name)).toEqual(['b', 'a', 'c']);
  });

  it('ranks "never used" below every count, and breaks ties by time then name', () => {
    expect(pruneOrder([e('used', 100, 1), e('unused', 100, 0)]).map((x) => x.name)).toEqual(['unused', 'used']);
    expect(pruneOrder([e('b', 100, 1), e('a', 100, 1)]).map((x) => x.name)).toEqual(['a', 'b']);
  });
});
