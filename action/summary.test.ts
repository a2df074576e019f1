import { describe, expect, it } from 'vitest';
import { formatBytes, summaryMarkdown } from './summary.js';

const manifest = `sha256:${'a'.repeat(64)}`;
const config = `sha256:${'c'.repeat(64)}`;

describe('job summary', () => {
  it('lists the steps (CACHED or their time, a miss reason when known), the ratio, the image and what was pushed', () => {
    const md = summaryMarkdown({
      steps: [
        { kind: 'step', name: '[1/3] FROM busybox', state: 'cached' },
        { kind: 'step', name: '[2/3] RUN make | tee log', state: 'done', ms: 2500, reason: 'files of the context changed: changed src/a.c' },
        { kind: 'step', name: '[3/3] COPY <out> /', state: 'cached' },
        { kind: 'other', name: 'exporting cache to gha:app', state: 'done', ms: 900 },
      ],
      outputs: { imageid: config, digest: manifest, 'cache-hit-ratio': '0.6667' },
      metadata: { 'image.name': 'ghcr.io/me/app:1,ghcr.io/me/app:latest' },
      pushes: true,
      imageSize: 5 * 1024 * 1024 + 300 * 1024,
    });
    expect(md).toBe(
      [
        '## tsbuild',
        '',
        '**Cache hit ratio:** 0.6667 (2 of 3 steps cached)',
        '',
        '| # | Step | Cache / time | Cache miss reason |',
        '|---:|---|---|---|',
        '| 1 | [1/3] FROM busybox | CACHED |  |',
        '| 2 | [2/3] RUN make \\| tee log | 2.5s | files of the context changed: changed src/a.c |',
        '| 3 | [3/3] COPY &lt;out&gt; / | CACHED |  |',
        '',
        '### Other work',
        '',
        '- exporting cache to gha:app: 0.9s',
        '',
        '### Image',
        '',
        `- Digest: <code>${manifest}</code>`,
        `- Image ID: <code>${config}</code>`,
        '- Size: 5.3 MiB (its layers)',
        '',
        '### Pushed',
        '',
        '- <code>ghcr.io/me/app:1</code>',
        '- <code>ghcr.io/me/app:latest</code>',
        '',
      ].join('\n'),
    );
  });

  it('lists no pushed names for a build that pushed nothing, and says how failed or unfinished steps ended', () => {
    const md = summaryMarkdown({
      steps: [
        { kind: 'step', name: '[1/2] RUN false', state: 'failed', ms: 1200 },
        { kind: 'step', name: '[2/2] RUN other', state: 'started' },
      ],
      outputs: { 'cache-hit-ratio': '0' },
      metadata: { 'image.name': 'app:1' },
      pushes: false,
    });
    expect(md).toContain('| 1 | [1/2] RUN false | ERROR after 1.2s |  |');
    expect(md).toContain('| 2 | [2/2] RUN other | not finished |  |');
    expect(md).toContain('**Cache hit ratio:** 0 (0 of 2 steps cached)');
    expect(md).not.toContain('### Pushed');
    expect(md).not.toContain('### Image');
  });

  it('writes sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
