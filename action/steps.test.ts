import { describe, expect, it } from 'vitest';
import { jsonRenderer } from '../cli/progress.js';
import { asDigest, type SolveEvent } from '../build/index.js';
import { cacheHitRatio, readSteps } from './steps.js';

const d = (n: number) => asDigest(`sha256:${String(n).repeat(64)}`);

/** Events as `tsbuild build --progress json` writes them (the CLI's own renderer). */
function progress(events: readonly SolveEvent[], extra: readonly string[] = []): string {
  let text = '';
  const r = jsonRenderer((s) => (text += s));
  for (const e of events) r.event(e);
  r.warning({ message: 'a warning' });
  return text + extra.join('');
}

describe('readSteps', () => {
  const events: SolveEvent[] = [
    { kind: 'vertex', digest: d(1), name: '[internal] load build definition', state: 'started', at: 1000, internal: true },
    { kind: 'vertex', digest: d(1), name: '[internal] load build definition', state: 'done', at: 1001, internal: true },
    { kind: 'vertex', digest: d(2), name: '[1/3] FROM busybox', state: 'cached', at: 1002 },
    { kind: 'vertex', digest: d(3), name: '[2/3] RUN make', state: 'started', at: 2000 },
    { kind: 'log', digest: d(3), fd: 1, data: new TextEncoder().encode('{"kind":"vertex","digest":"x"}\n') },
    { kind: 'status', digest: d(3), id: 'layer', current: 5, total: 10 },
    { kind: 'vertex', digest: d(3), name: '[2/3] RUN make', state: 'done', at: 4500 },
    { kind: 'vertex', digest: d(4), name: '[3/3] COPY a | b <c>', state: 'cached', at: 4600 },
  ];

  it('takes the steps, their cache state and time from the JSON progress; internal steps, logs, status and warnings are none', () => {
    const steps = readSteps(progress(events));
    expect(steps).toEqual([
      { kind: 'step', name: '[1/3] FROM busybox', state: 'cached' },
      { kind: 'step', name: '[2/3] RUN make', state: 'done', ms: 2500 },
      { kind: 'step', name: '[3/3] COPY a | b <c>', state: 'cached' },
    ]);
    expect(cacheHitRatio(steps)).toBe('0.6667');
  });

  it('takes a miss reason from a miss event (its text) or a reason field, and none when absent', () => {
    const miss = JSON.stringify({ kind: 'miss', digest: d(3), reasons: [{ kind: 'build-arg', name: 'V' }], text: ['build arg V changed ("1" → "2")'] }) + '\n';
    const steps = readSteps(progress(events.slice(0, 4), [miss]) + progress(events.slice(6)));
    expect(steps[1]).toEqual({ kind: 'step', name: '[2/3] RUN make', state: 'done', ms: 2500, reason: 'build arg V changed ("1" → "2")' });
    const reasonField = JSON.stringify({ kind: 'vertex', digest: d(5), name: 'RUN x', state: 'started', at: 1, reason: 'its input step changed' }) + '\n';
    expect(readSteps(reasonField)).toEqual([{ kind: 'other', name: 'RUN x', state: 'started', reason: 'its input step changed' }]);
    expect(readSteps(progress(events)).every((s) => s.reason === undefined)).toBe(true);
  });

  it('keeps a failed step, internal or not, and skips lines that are no events', () => {
    const text = progress([
      { kind: 'vertex', digest: d(6), name: '[internal] load metadata', state: 'started', at: 0, internal: true },
      { kind: 'vertex', digest: d(6), name: '[internal] load metadata', state: 'failed', at: 5, internal: true, error: 'no such image' },
    ]);
    expect(readSteps(`${text}error: the build failed\n{not json\n`)).toEqual([{ kind: 'step', name: '[internal] load metadata', state: 'failed', ms: 5 }]);
  });

  it('tells the steps of the graph from other work (caches imported or exported), which counts in no ratio', () => {
    const steps = readSteps(
      progress([
        { kind: 'vertex', digest: d(7), name: 'importing cache manifest from gha:app', state: 'started', at: 0 },
        { kind: 'vertex', digest: d(7), name: 'importing cache manifest from gha:app', state: 'done', at: 300 },
        { kind: 'vertex', digest: d(8), name: '[internal] load image busybox:1', state: 'cached', at: 301 },
        { kind: 'vertex', digest: d(9), name: '[2/2] RUN make', state: 'cached', at: 302 },
        { kind: 'vertex', digest: d(1), name: 'exporting cache to gha:app', state: 'started', at: 400 },
        { kind: 'vertex', digest: d(1), name: 'exporting cache to gha:app', state: 'done', at: 900 },
      ]),
    );
    expect(steps.map((s) => [s.kind, s.name])).toEqual([
      ['other', 'importing cache manifest from gha:app'],
      ['step', '[internal] load image busybox:1'],
      ['step', '[2/2] RUN make'],
      ['other', 'exporting cache to gha:app'],
    ]);
    expect(cacheHitRatio(steps)).toBe('1');
  });

  it('gives 1 when every step came from the cache, 0 when there are no steps', () => {
    expect(cacheHitRatio([{ kind: 'step', name: 'a', state: 'cached' }, { kind: 'step', name: 'b', state: 'cached' }])).toBe('1');
    expect(cacheHitRatio([{ kind: 'step', name: 'a', state: 'done' }])).toBe('0');
    expect(cacheHitRatio([{ kind: 'step', name: 'a', state: 'cached' }, { kind: 'step', name: 'b', state: 'done' }, { kind: 'step', name: 'c', state: 'done' }, { kind: 'step', name: 'd', state: 'done' }])).toBe('0.25');
    expect(cacheHitRatio([])).toBe('0');
    expect(cacheHitRatio([{ kind: 'other', name: 'exporting cache to local:/c', state: 'done' }])).toBe('0');
  });
});
