/**
 * The build's steps as its JSON progress (`--progress json`, one event a line) tells them: each
 * step's name, whether it came from the cache, how long it ran, and why it missed the cache when
 * an event says so (a `miss` event's `text`, or a `reason` field on a step's event). Lines that
 * are not events (an error the CLI printed) and events of other kinds (logs, status) are no
 * steps; internal steps are left out, as plain progress leaves them out.
 *
 * The steps of the build graph are named `[…] …` (`[stage 2/5] RUN …`, `[internal] load image
 * …`, `[context NAME] …`); the other work the build shows as steps (importing and exporting
 * caches) is `other`: it runs every time, so it counts in no cache hit ratio.
 */

import { parseEvent } from './events.js';

export interface Step {
  readonly name: string;
  /** A step of the build graph, or other work (a cache imported or exported). */
  readonly kind: 'step' | 'other';
  /** The last state the events gave: `started` only for a step the build never finished. */
  readonly state: 'started' | 'cached' | 'done' | 'failed';
  /** Milliseconds from start to end, for a step that ran. */
  readonly ms?: number;
  /** Why it missed the cache, when an event says. */
  readonly reason?: string;
}

interface Draft {
  name: string;
  state: Step['state'];
  internal: boolean;
  started?: number;
  ended?: number;
  reasons: string[];
}

const STATES: readonly string[] = ['started', 'cached', 'done', 'failed'];


/** The steps in the order they first appear. */
export function readSteps(progress: string): Step[] {
  const byDigest = new Map<string, Draft>();
  // Reasons told before the step's first event.
  const early = new Map<string, string[]>();
  const reasonsOf = (e: Record<string, unknown>): string[] => {
    const out: string[] = [];
    if (typeof e['reason'] === 'string' && e['reason'] !== '') out.push(e['reason']);
    if (Array.isArray(e['text'])) for (const t of e['text']) if (typeof t === 'string' && t !== '') out.push(t);
    return out;
  };
  for (const line of progress.split('\n')) {
    const e = parseEvent(line.trim());
    if (e === undefined || typeof e['digest'] !== 'string') continue;
    const digest = e['digest'];
    if (e['kind'] === 'vertex' && typeof e['name'] === 'string' && typeof e['state'] === 'string' && STATES.includes(e['state'])) {
      let d = byDigest.get(digest);
      if (d === undefined) byDigest.set(digest, (d = { name: e['name'], state: 'started', internal: false, reasons: early.get(digest) ?? [] }));
      d.state = e['state'] as Step['state'];
      d.internal = e['internal'] === true;
      const at = typeof e['at'] === 'number' ? e['at'] : undefined;
      if (d.state === 'started') d.started = at;
      else d.ended = at;
      d.reasons.push(...reasonsOf(e));
    } else if (e['kind'] === 'miss') {
      const reasons = byDigest.get(digest)?.reasons ?? early.get(digest) ?? [];
      reasons.push(...reasonsOf(e));
      if (!byDigest.has(digest)) early.set(digest, reasons);
    }
  }
  const steps: Step[] = [];
  for (const d of byDigest.values()) {
    if (d.internal && d.state !== 'failed') continue;
    const ran = (d.state === 'done' || d.state === 'failed') && d.started !== undefined && d.ended !== undefined;
    steps.push({
      name: d.name,
      kind: d.name.startsWith('[') ? 'step' : 'other',
      state: d.state,
      ...(ran ? { ms: Math.max(0, d.ended! - d.started!) } : {}),
      ...(d.reasons.length === 0 ? {} : { reason: d.reasons.join('; ') }),
    });
  }
  return steps;
}

/** Cached steps over all steps of the graph, as a decimal (four places at most); `0` when there are none. */
export function cacheHitRatio(all: readonly Step[]): string {
  const steps = all.filter((s) => s.kind === 'step');
  if (steps.length === 0) return '0';
  const cached = steps.filter((s) => s.state === 'cached').length;
  return String(Number((cached / steps.length).toFixed(4)));
}
