import { describe, expect, it } from 'vitest';
import { sha256 } from '../solver/core/index.js';
import { createRenderer } from './progress.js';

const d1 = sha256('one');
const d2 = sha256('two');
const enc = (s: string) => new TextEncoder().encode(s);

function render(mode: 'plain' | 'json' | 'tty') {
  let out = '';
  const r = createRenderer(mode, { write: (s) => (out += s), isTTY: mode === 'tty', columns: 80 });
  r.event({ kind: 'vertex', digest: d1, name: '[1/2] FROM busybox:test', state: 'cached', at: 1000 });
  r.event({ kind: 'vertex', digest: d2, name: '[2/2] RUN echo hi', state: 'started', at: 1000 });
  r.event({ kind: 'log', digest: d2, fd: 1, data: enc('hi\npart') });
  r.event({ kind: 'log', digest: d2, fd: 1, data: enc('ial\n') });
  r.event({ kind: 'vertex', digest: d2, name: '[2/2] RUN echo hi', state: 'done', at: 1500 });
  r.warning({ message: 'build-arg "X" was not consumed' });
  r.close();
  return out;
}

describe('progress renderers', () => {
  it('plain: a line per event, output prefixed by its step, whole lines only', () => {
    const out = render('plain');
    expect(out).toMatch(/^#1 \[1\/2\] FROM busybox:test\n#1 CACHED\n#2 \[2\/2\] RUN echo hi\n#2 [\d.]+ hi\n#2 [\d.]+ partial\n#2 DONE 0\.5s\nWARNING: build-arg "X" was not consumed\n$/);
  });

  it('json: one object per line, log data in base64', () => {
    const lines = render('json').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.kind)).toEqual(['vertex', 'vertex', 'log', 'log', 'vertex', 'warning']);
    expect(Buffer.from(lines[2]!.data as string, 'base64').toString()).toBe('hi\npart');
  });

  it('tty: finished steps end up printed once with CACHED or their time', () => {
    const out = render('tty');
    expect(out).toContain('=> [1] [1/2] FROM busybox:test  CACHED');
    expect(out).toContain('=> [2] [2/2] RUN echo hi  0.5s');
    expect(out.match(/=> \[2\]/g)?.length).toBe(1);
  });

  it('a miss: a line per reason under its step (plain), the reasons and their words (json)', () => {
    const miss = (mode: 'plain' | 'json') => {
      let out = '';
      const r = createRenderer(mode, { write: (s) => (out += s) });
      r.event({ kind: 'vertex', digest: d2, name: '[2/2] RUN make', state: 'started', at: 1000 });
      r.event({
        kind: 'miss',
        digest: d2,
        reasons: [
          { kind: 'build-arg', name: 'VERSION', before: '1.2', now: '1.3' },
          { kind: 'input', step: '[1/2] COPY app.txt /' },
        ],
      });
      r.close();
      return out;
    };
    expect(miss('plain')).toBe(
      '#1 [2/2] RUN make\n#1 cache miss: build arg VERSION changed ("1.2" → "1.3")\n#1 cache miss: its input step changed: [1/2] COPY app.txt /\n',
    );
    const line = JSON.parse(miss('json').trim().split('\n')[1]!) as Record<string, unknown>;
    expect(line).toEqual({
      kind: 'miss',
      digest: d2,
      reasons: [
        { kind: 'build-arg', name: 'VERSION', before: '1.2', now: '1.3' },
        { kind: 'input', step: '[1/2] COPY app.txt /' },
      ],
      text: ['build arg VERSION changed ("1.2" → "1.3")', 'its input step changed: [1/2] COPY app.txt /'],
    });
  });
});
