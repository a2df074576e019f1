import { describe, expect, it } from 'vitest';
import { logRenderer } from './log.js';

const vertex = (digest: string, name: string, state: string, at: number, extra: Record<string, unknown> = {}) => JSON.stringify({ kind: 'vertex', digest, name, state, at, ...extra });
const log = (digest: string, text: string) => JSON.stringify({ kind: 'log', digest, fd: 1, data: Buffer.from(text).toString('base64') });

function render(lines: readonly string[]) {
  let out = '';
  const r = logRenderer((s) => (out += s));
  for (const l of lines) r.line(l);
  const result = r.finish();
  return { out, result };
}

/** The groups of a log: no group may open inside another, and each closes. */
function groups(out: string): string[] {
  const names: string[] = [];
  let open = false;
  for (const l of out.split('\n')) {
    if (l.startsWith('::group::')) {
      expect(open).toBe(false);
      open = true;
      names.push(l.slice('::group::'.length));
    } else if (l === '::endgroup::') {
      expect(open).toBe(true);
      open = false;
    }
  }
  expect(open).toBe(false);
  return names;
}

describe('logRenderer', () => {
  it('a step that runs streams in a group of its own: its output, then DONE and its time', () => {
    const { out, result } = render([vertex('a', '[1/2] RUN echo hi', 'started', 1000), log('a', 'hi\nthere\n'), vertex('a', '[1/2] RUN echo hi', 'done', 3500)]);
    expect(out).toBe('::group::#1 [1/2] RUN echo hi\n#1 hi\n#1 there\n#1 DONE 2.5s\n::endgroup::\n');
    expect(result).toEqual({ failed: [], text: [], events: true });
  });

  it('a cached step is one line outside any group; a miss reason shows in the step group', () => {
    const { out } = render([
      vertex('a', '[1/2] COPY . /', 'cached', 5),
      vertex('b', '[2/2] RUN make', 'started', 10),
      JSON.stringify({ kind: 'miss', digest: 'b', reasons: [], text: ['the build arg V changed'] }),
      vertex('b', '[2/2] RUN make', 'done', 20),
    ]);
    expect(out).toBe('#1 [1/2] COPY . / CACHED\n::group::#2 [2/2] RUN make\n#2 cache miss: the build arg V changed\n#2 DONE 0.0s\n::endgroup::\n');
  });

  it('steps running at once never share a group: the second waits whole until the first group ends', () => {
    const { out } = render([
      vertex('a', '[a 1/1] RUN one', 'started', 0),
      vertex('b', '[b 1/1] RUN two', 'started', 0),
      log('b', 'two says\n'),
      log('a', 'one says\n'),
      vertex('b', '[b 1/1] RUN two', 'done', 1000),
      vertex('c', '[c 1/1] RUN three', 'started', 1000),
      log('c', 'three says'),
      vertex('a', '[a 1/1] RUN one', 'done', 2000),
      log('c', ' more\n'),
      vertex('c', '[c 1/1] RUN three', 'done', 3000),
    ]);
    expect(groups(out)).toEqual(['#1 [a 1/1] RUN one', '#2 [b 1/1] RUN two', '#3 [c 1/1] RUN three']);
    expect(out).toBe(
      [
        '::group::#1 [a 1/1] RUN one',
        '#1 one says',
        '#1 DONE 2.0s',
        '::endgroup::',
        '::group::#2 [b 1/1] RUN two',
        '#2 two says',
        '#2 DONE 1.0s',
        '::endgroup::',
        '::group::#3 [c 1/1] RUN three',
        '#3 three says more',
        '#3 DONE 2.0s',
        '::endgroup::',
        '',
      ].join('\n'),
    );
  });

  it('a failed step: its group ends, then its whole output (every line) and error outside any group; the CLI error is text', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`);
    const { out, result } = render([
      vertex('a', '[1/1] RUN build', 'started', 0),
      log('a', lines.join('\n') + '\n'),
      vertex('a', '[1/1] RUN build', 'failed', 10, { error: 'exit code: 2' }),
      'error: Dockerfile:1:1: [1/1] RUN build: exit code: 2',
    ]);
    const [inGroup, after] = out.split('::endgroup::\n') as [string, string];
    expect(inGroup).toContain('#1 line 300\n#1 ERROR: exit code: 2\n');
    expect(after).toBe(`#1 ERROR in [1/1] RUN build: exit code: 2\n#1 its whole output (300 lines):\n${lines.map((l) => `#1 ${l}\n`).join('')}`);
    expect(result.failed).toEqual([{ name: '[1/1] RUN build', error: 'exit code: 2' }]);
    expect(result.text).toEqual(['error: Dockerfile:1:1: [1/1] RUN build: exit code: 2']);
  });

  it('a step failing while another group is open is shown unfolded once that group ends; an unfinished step shows what it printed', () => {
    const { out } = render([
      vertex('a', '[a 1/1] RUN slow', 'started', 0),
      vertex('b', '[b 1/1] RUN bad', 'started', 0),
      log('b', 'oops\n'),
      vertex('b', '[b 1/1] RUN bad', 'failed', 5, { error: 'exit code: 1' }),
      log('a', 'partial'),
    ]);
    expect(out).toBe(['::group::#1 [a 1/1] RUN slow', '#1 partial', '#1 (did not finish)', '::endgroup::', '#2 ERROR in [b 1/1] RUN bad: exit code: 1', '#2 its whole output (1 lines):', '#2 oops', ''].join('\n'));
  });

  it('internal steps are left out unless they fail; warnings become ::warning:: commands; no events means none seen', () => {
    const { out } = render([vertex('i', '[internal] load build definition', 'started', 0, { internal: true }), vertex('i', '[internal] load build definition', 'done', 1, { internal: true }), JSON.stringify({ kind: 'warning', message: 'an odd: thing', where: 'Dockerfile:2' })]);
    expect(out).toBe('::warning::Dockerfile:2: an odd: thing\n');
    expect(render(['sudo: a password is required']).result).toEqual({ failed: [], text: ['sudo: a password is required'], events: false });
  });

  it('a line the build printed is never a workflow command: every line of a step starts with #N', () => {
    const { out } = render([vertex('a', '[1/1] RUN evil', 'started', 0), log('a', '::add-mask::x\n  ::endgroup::\n::error::boom\n'), vertex('a', '[1/1] RUN evil', 'failed', 1, { error: 'exit code: 1' })]);
    const commands = out.split('\n').filter((l) => l.trim().startsWith('::'));
    expect(commands).toEqual(['::group::#1 [1/1] RUN evil', '::endgroup::']);
  });

  it('status events are lines of their step', () => {
    const { out } = render([vertex('x', 'exporting cache to gha:s', 'started', 0), JSON.stringify({ kind: 'status', digest: 'x', id: 'requests', current: 3, total: 9 }), vertex('x', 'exporting cache to gha:s', 'done', 100)]);
    expect(out).toBe('::group::#1 exporting cache to gha:s\n#1 requests 3 / 9\n#1 DONE 0.1s\n::endgroup::\n');
  });
});
