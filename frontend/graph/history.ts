/**
 * The image history entry each Dockerfile step leaves, worded as BuildKit words it (its
 * `created_by` strings use Go's fmt verbs, reproduced here), and which steps make a layer.
 */
import { exposedPortKeys, parseExposePort } from '../instructions/index.js';
import { fromBinary, goQuote, toBinary } from '../parser/gostring.js';
import type { Instruction } from '../instructions/types.js';
import type { Step } from '../stages/types.js';

/** fmt's %q of a []string: `["a" "b"]`. */
export function goQuotedList(items: readonly string[]): string {
  return '[' + items.map((s) => fromBinary(goQuote(toBinary(s)))).join(' ') + ']';
}

/** fmt's %v of a []string: `[a b]`. */
export function goList(items: readonly string[]): string {
  return '[' + items.join(' ') + ']';
}

/** Go's time.Duration.String for a whole number of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1000) out = `${n}ns`;
  else if (n < 1_000_000) out = `${trimFraction(n / 1000)}µs`;
  else if (n < 1_000_000_000) out = `${trimFraction(n / 1_000_000)}ms`;
  else {
    const h = Math.floor(n / 3_600_000_000_000);
    n -= h * 3_600_000_000_000;
    const m = Math.floor(n / 60_000_000_000);
    n -= m * 60_000_000_000;
    const s = trimFraction(n / 1_000_000_000);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * BuildKit's runCommandString: `|N K=V … args`, one pair per ARG key in scope, where it was
 * first declared (a parent stage's first); the value is the environment's, else the last
 * declaration's, else empty (`K=`).
 */
function runCommandString(args: readonly string[], step: Pick<Step, 'env' | 'args'>): string {
  const env = new Map(step.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  const pairs = new Map<string, string>();
  for (const a of step.args) pairs.set(a.key, env.get(a.key) ?? a.value ?? '');
  const prefix = pairs.size > 0 ? [`|${pairs.size}`, ...[...pairs].map(([k, v]) => `${k}=${v}`)] : [];
  return [...prefix, ...args].join(' ');
}

export interface HistoryStep {
  readonly createdBy: string;
  readonly layer: boolean;
}

/** The history entry of a step, or undefined for steps BuildKit leaves out (ONBUILD). */
export function historyFor(step: Step, runArgs?: readonly string[]): HistoryStep | undefined {
  const i: Instruction = step.instruction;
  switch (i.kind) {
    case 'env':
      return { createdBy: ['ENV', ...i.env.map((kv) => `${kv.key}=${kv.value}`)].join(' '), layer: false };
    case 'arg':
      // The plan gives each ARG the value it took (none: the key alone).
      return { createdBy: `ARG ${i.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`, layer: false };
    case 'label':
      return { createdBy: ['LABEL', ...i.labels.map((kv) => `${kv.key}=${kv.value}`)].join(' '), layer: false };
    case 'workdir':
      return { createdBy: `WORKDIR ${i.path}`, layer: i.path !== '/' };
    case 'user':
      return { createdBy: `USER ${i.user}`, layer: false };
    case 'volume':
      return { createdBy: `VOLUME ${goList(i.paths)}`, layer: false };
    case 'stopsignal':
      return { createdBy: `STOPSIGNAL ${i.signal}`, layer: false };
    case 'shell':
      return { createdBy: `SHELL ${goList(i.shell)}`, layer: false };
    case 'maintainer':
      return { createdBy: `MAINTAINER ${i.maintainer}`, layer: false };
    case 'expose':
      return { createdBy: `EXPOSE ${goList(exposedList(i.ports))}`, layer: false };
    case 'cmd':
    case 'entrypoint': {
      const argv = i.prependShell ? [...step.shell, ...i.args] : [...i.args];
      return { createdBy: `${i.kind.toUpperCase()} ${goQuotedList(argv)}`, layer: false };
    }
    case 'healthcheck': {
      const h = i.health;
      const d = (v: number | undefined) => goDuration(v ?? 0);
      return {
        createdBy: `HEALTHCHECK {Test:${goList(h.test)} Interval:${d(h.interval)} Timeout:${d(h.timeout)} StartPeriod:${d(h.startPeriod)} StartInterval:${d(h.startInterval)} Retries:${h.retries ?? 0}}`,
        layer: false,
      };
    }
    case 'run':
      return { createdBy: `RUN ${runCommandString(runArgs ?? i.args, step)} # buildkit`, layer: true };
    case 'copy':
    case 'add': {
      const parts = [i.kind.toUpperCase()];
      if (i.kind === 'copy' && i.parents) parts.push('--parents');
      if (i.chown !== undefined && i.chown !== '') parts.push(`--chown=${i.chown}`);
      if (i.chmod !== undefined && i.chmod !== '') parts.push(`--chmod=${i.chmod}`);
      parts.push(...i.sources, ...i.heredocSources.map((h) => `<<${h.path}`), i.dest);
      return { createdBy: `${parts.join(' ')} # buildkit`, layer: true };
    }
    case 'onbuild':
    case 'from':
      return undefined;
  }
}

/**
 * EXPOSE words as BuildKit lists them: every port of a range (`8000-8002` gives three), each
 * with its protocol in lower case (`tcp` when none), in the order of the words (which the
 * parser sorted before expansion); a port named twice is listed twice.
 */
function exposedList(ports: readonly string[]): string[] {
  return ports.flatMap((p) => exposedPortKeys(parseExposePort(p)));
}

/**
 * History times as BuildKit's exporter sets them, so that a fully cached rebuild makes the
 * same image: a step with a layer takes its layer's creation time (when its snapshot was
 * committed, which a cache hit reuses), and a step without one the time of the first new
 * layer, or, once new layers have begun, of the layer before it. Times a base image brought
 * are kept. `layerTimes` are the creation times of the image's layers, bottom first.
 */
export function fillHistoryTimes<H extends { readonly created?: string | Date; readonly empty_layer?: boolean }>(
  history: readonly H[],
  layerTimes: readonly Date[],
): H[] {
  let layer = 0;
  const out = history.map((h) => {
    const time = h.empty_layer === true ? h.created : (h.created ?? layerTimes[layer]);
    if (h.empty_layer !== true) layer++;
    return time === undefined ? h : { ...h, created: time };
  });
  // The first time after the first entry that has none (the first new layer), else the last one.
  let fill: string | Date | undefined;
  let missing = false;
  for (const h of out) {
    if (h.created !== undefined) {
      fill = h.created;
      if (missing) break;
    } else missing = true;
  }
  missing = false;
  return out.map((h) => {
    if (h.created !== undefined) {
      if (missing) fill = h.created;
      return h;
    }
    missing = true;
    return fill === undefined ? h : { ...h, created: fill };
  });
}
