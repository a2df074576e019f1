import { describe, expect, it } from 'vitest';
import { fillHistoryTimes } from './history.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('fillHistoryTimes (as BuildKit exports history)', () => {
  it('gives layers their creation time, and steps without a layer the first new layer time, then the previous one', () => {
    const history = [
      { created: '2020-01-01T00:00:00Z', created_by: 'base layer' },
      { created: '2020-01-01T00:00:01Z', created_by: 'base CMD', empty_layer: true },
      { created_by: 'ENV A=1', empty_layer: true },
      { created_by: 'RUN one' },
      { created_by: 'WORKDIR', empty_layer: true },
      { created_by: 'RUN two' },
      { created_by: 'CMD', empty_layer: true },
    ];
    const out = fillHistoryTimes(history, [t(0), t(10), t(20)]);
    expect(out.map((h) => h.created)).toEqual([
      '2020-01-01T00:00:00Z', // a base image's own times are kept
      '2020-01-01T00:00:01Z',
      t(10), // before any new layer: the first new layer's time
      t(10),
      t(10), // after: the layer before it
      t(20),
      t(20),
    ]);
  });

  it('is the same for the same layers: a cached rebuild makes the same history', () => {
    const history: { created?: Date; created_by: string; empty_layer?: boolean }[] = [{ created_by: 'COPY' }, { created_by: 'CMD', empty_layer: true }];
    expect(fillHistoryTimes(history, [t(5)])).toEqual(fillHistoryTimes(history, [t(5)]));
    expect(fillHistoryTimes(history, [t(5)]).map((h) => h.created)).toEqual([t(5), t(5)]);
  });

  it('leaves steps without any time when nothing has one (no layers at all)', () => {
    expect(fillHistoryTimes([{ created_by: 'CMD', empty_layer: true }], [])).toEqual([{ created_by: 'CMD', empty_layer: true }]);
  });
});
