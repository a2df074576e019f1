/**
 * What the CI-shaped cache tests (test/cache-*.test.ts) share: the Dockerfile of the scenario
 * (a side stage, a RUN before and after a copied file), the markers its RUNs print, and how a
 * test reads a run — which RUNs ran, how many steps were CACHED, the image ID a build wrote —
 * and copies a checkout to another runner's path.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from './cli.js';

/** The markers the scenario's RUN commands print (a RUN that ran prints its own). */
export const MARKERS = ['RAN-SIDE', 'RAN-FIRST', 'RAN-SECOND'] as const;

/** The scenario: a side stage and two RUNs around a copied file (`app.txt`), each printing its marker. */
export const DOCKERFILE = [
  'FROM scratch AS base',
  'COPY rootfs/ /',
  'FROM base AS side',
  'RUN echo RAN-SIDE && head -c 32 /dev/urandom | sha256sum > /side && echo side only > /side-only',
  'FROM base',
  'RUN echo RAN-FIRST && head -c 32 /dev/urandom | sha256sum > /first',
  'COPY app.txt /app.txt',
  'COPY --from=side /side /side',
  'RUN echo RAN-SECOND && head -c 32 /dev/urandom | sha256sum > /second && cat /app.txt >> /second',
  '',
].join('\n');

/** The markers of the RUNs that ran in `r` (plain progress). */
export const ran = (r: Run): string[] => MARKERS.filter((m) => new RegExp(`^#\\d+ [\\d.]+ ${m}$`, 'm').test(r.stderr));

/** How many steps `r` reported CACHED. */
export const cachedCount = (r: Run): number => r.stderr.match(/^#\d+ CACHED$/gm)?.length ?? 0;

/** The image ID a build wrote to its metadata file `${out}.json`. */
export const imageId = (out: string): string | undefined =>
  (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as Record<string, string>)['containerimage.config.digest'];

/** A copy of checkout `from` at `to`, as another runner has it (modes and owners kept), with `app.txt` changed if asked. */
export function copyCheckout(from: string, to: string, change?: string): string {
  mkdirSync(join(to, '..'), { recursive: true });
  const r = spawnSync('cp', ['-a', from, to]);
  if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr.toString()}`);
  if (change !== undefined) writeFileSync(join(to, 'app.txt'), change);
  return to;
}
