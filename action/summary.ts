/**
 * The job summary (Markdown for `$GITHUB_STEP_SUMMARY`): the steps, each CACHED or its time and,
 * for a miss an event explained, the reason; the cache hit ratio; the image's digest, ID and
 * size; and the references pushed.
 */
import type { StepOutputs } from './outputs.js';
import type { Step } from './steps.js';

export interface SummaryFacts {
  readonly steps: readonly Step[];
  readonly outputs: StepOutputs;
  /** The build's metadata (names in `image.name`). */
  readonly metadata?: Record<string, unknown>;
  /** Whether the image went to a registry. */
  readonly pushes: boolean;
  /** Bytes of the image's layers, when the caller has looked them up (`tsbuild images` shows them for the local store). */
  readonly imageSize?: number;
}

/** Text in a table cell or code span: no line breaks, pipes and HTML kept literal. */
const cell = (s: string) => s.replace(/\r?\n/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
const code = (s: string) => `<code>${cell(s)}</code>`;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

function result(s: Step): string {
  switch (s.state) {
    case 'cached':
      return 'CACHED';
    case 'done':
      return s.ms === undefined ? 'done' : `${(s.ms / 1000).toFixed(1)}s`;
    case 'failed':
      return s.ms === undefined ? 'ERROR' : `ERROR after ${(s.ms / 1000).toFixed(1)}s`;
    case 'started':
      return 'not finished';
  }
}

export function summaryMarkdown(f: SummaryFacts): string {
  const lines = ['## tsbuild', ''];
  const steps = f.steps.filter((s) => s.kind === 'step');
  const other = f.steps.filter((s) => s.kind === 'other');
  const cached = steps.filter((s) => s.state === 'cached').length;
  lines.push(`**Cache hit ratio:** ${f.outputs['cache-hit-ratio']} (${cached} of ${steps.length} steps cached)`, '');
  if (steps.length > 0) {
    lines.push('| # | Step | Cache / time | Cache miss reason |', '|---:|---|---|---|');
    steps.forEach((s, i) => lines.push(`| ${i + 1} | ${cell(s.name)} | ${result(s)} | ${s.reason === undefined ? '' : cell(s.reason)} |`));
    lines.push('');
  }
  if (other.length > 0) lines.push('### Other work', '', ...other.map((s) => `- ${cell(s.name)}: ${result(s)}`), '');
  const image: string[] = [];
  if (f.outputs.digest !== undefined) image.push(`- Digest: ${code(f.outputs.digest)}`);
  if (f.outputs.imageid !== undefined) image.push(`- Image ID: ${code(f.outputs.imageid)}`);
  if (f.imageSize !== undefined) image.push(`- Size: ${formatBytes(f.imageSize)} (its layers)`);
  if (image.length > 0) lines.push('### Image', '', ...image, '');
  const names = typeof f.metadata?.['image.name'] === 'string' ? f.metadata['image.name'].split(',').filter((n) => n !== '') : [];
  if (f.pushes && names.length > 0) lines.push('### Pushed', '', ...names.map((n) => `- ${code(n)}`), '');
  return lines.join('\n');
}
