/**
 * Rendering build events: `plain` (a line per event, RUN output prefixed by its step),
 * `tty` (a live view of running steps with elapsed time and the tail of their output),
 * `json` (one JSON object per event) and `quiet`. Only the CLI renders; the engine emits.
 */
import { TextDecoder } from 'node:util';
import type { SolveEvent } from '../build/index.js';
import { describeMissReason } from './miss-reason.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

/** A warning shown with the build output. */
export interface ProgressWarning {
  readonly message: string;
  readonly where?: string;
}

export interface ProgressRenderer {
  event(e: SolveEvent): void;
  warning(w: ProgressWarning): void;
  /** Flush and stop any live redraw; the final view stays on screen. */
  close(): void;
}

interface Step {
  readonly n: number;
  readonly name: string;
  started?: number;
  state?: 'started' | 'cached' | 'done' | 'failed';
  ended?: number;
  partial: string;
  tail: string[];
}

const TAIL_LINES = 6;

class Steps {
  private readonly byDigest = new Map<string, Step>();
  private next = 1;
  get(e: { digest: string; name?: string }): Step {
    let s = this.byDigest.get(e.digest);
    if (s === undefined) {
      s = { n: this.next++, name: e.name ?? e.digest, partial: '', tail: [] };
      this.byDigest.set(e.digest, s);
    }
    return s;
  }
  all(): Step[] {
    return [...this.byDigest.values()];
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const decoder = () => new TextDecoder('utf-8', { fatal: false });

/** Split a chunk into complete lines, keeping the unfinished end for the next chunk. */
function takeLines(step: Step, text: string): string[] {
  const all = (step.partial + text).split('\n');
  step.partial = all.pop() ?? '';
  return all.map((l) => l.replace(/\r$/, ''));
}

export function plainRenderer(write: (s: string) => void): ProgressRenderer {
  const steps = new Steps();
  const start = Date.now();
  const dec = new Map<string, TextDecoder>();
  return {
    event(e) {
      if (e.kind === 'vertex') {
        if (e.internal && e.state !== 'failed') return;
        const s = steps.get(e);
        if (e.state === 'started') {
          s.started = e.at;
          write(`#${s.n} ${s.name}\n`);
        } else if (e.state === 'cached') {
          write(`#${s.n} ${s.name}\n#${s.n} CACHED\n`);
        } else if (e.state === 'done') {
          write(`#${s.n} DONE ${seconds(e.at - (s.started ?? e.at))}\n`);
        } else {
          write(`#${s.n} ERROR: ${e.error ?? 'failed'}\n`);
        }
      } else if (e.kind === 'log') {
        const s = steps.get(e);
        let d = dec.get(e.digest);
        if (d === undefined) dec.set(e.digest, (d = decoder()));
        const elapsed = ((Date.now() - start) / 1000).toFixed(3);
        for (const line of takeLines(s, d.decode(e.data, { stream: true }))) write(`#${s.n} ${elapsed} ${line}\n`);
      } else if (e.kind === 'miss') {
        const s = steps.get(e);
        for (const r of e.reasons) write(`#${s.n} cache miss: ${describeMissReason(r)}\n`);
      } else {
        const s = steps.get(e);
        const total = e.total === undefined ? '' : ` / ${e.total}`;
        write(`#${s.n} ${e.id} ${e.current}${total}\n`);
      }
    },
    warning(w) {
      write(`WARNING: ${w.where === undefined ? '' : `${w.where}: `}${w.message}\n`);
    },
    close() {
      for (const s of steps.all()) if (s.partial !== '') write(`#${s.n} ${s.partial}\n`);
    },
  };
}

export function jsonRenderer(write: (s: string) => void): ProgressRenderer {
  return {
    event(e) {
      if (e.kind === 'log') {
        write(JSON.stringify({ kind: 'log', digest: e.digest, fd: e.fd, data: Buffer.from(e.data).toString('base64') }) + '\n');
      } else if (e.kind === 'miss') {
        // The reasons as data, and as the words plain progress shows.
        write(JSON.stringify({ ...e, text: e.reasons.map(describeMissReason) }) + '\n');
      } else {
        write(JSON.stringify(e) + '\n');
      }
    },
    warning(w) {
      write(JSON.stringify({ kind: 'warning', ...w }) + '\n');
    },
    close() {},
  };
}

export function quietRenderer(): ProgressRenderer {
  return { event() {}, warning() {}, close() {} };
}

/** The live view: finished steps scroll up once, running ones are redrawn in place. */
export function ttyRenderer(write: (s: string) => void, columns: () => number): ProgressRenderer {
  const steps = new Steps();
  const dec = new Map<string, TextDecoder>();
  const warnings: string[] = [];
  let drawn = 0;
  let dirty = false;
  const printed = new Set<number>();
  const clip = (s: string) => {
    const w = Math.max(20, columns() - 1);
    return s.length > w ? s.slice(0, w - 1) + '…' : s;
  };
  const line = (s: Step) => {
    const now = Date.now();
    const time = s.state === 'cached' ? 'CACHED' : seconds((s.ended ?? now) - (s.started ?? now));
    const mark = s.state === 'failed' ? ' ERROR' : '';
    return clip(`=> [${s.n}] ${s.name}  ${time}${mark}`);
  };
  const redraw = () => {
    if (!dirty) return;
    dirty = false;
    let out = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '';
    for (const s of steps.all()) {
      if (printed.has(s.n) || (s.state !== 'done' && s.state !== 'cached' && s.state !== 'failed')) continue;
      out += line(s) + '\n';
      if (s.state === 'failed') for (const t of s.tail) out += clip(`   ${t}`) + '\n';
      printed.add(s.n);
    }
    while (warnings.length > 0) out += clip(`WARNING: ${warnings.shift()}`) + '\n';
    drawn = 0;
    for (const s of steps.all()) {
      if (s.state !== 'started') continue;
      out += line(s) + '\n';
      drawn++;
      for (const t of s.tail) {
        out += clip(`   ${t}`) + '\n';
        drawn++;
      }
    }
    write(out);
  };
  const timer = setInterval(() => {
    if (steps.all().some((s) => s.state === 'started')) dirty = true;
    redraw();
  }, 100);
  timer.unref();
  return {
    event(e) {
      if (e.kind === 'vertex') {
        if (e.internal && e.state !== 'failed') return;
        const s = steps.get(e);
        s.state = e.state;
        if (e.state === 'started') s.started = e.at;
        else s.ended = e.at;
        if (e.state === 'failed' && e.error !== undefined) s.tail.push(`ERROR: ${e.error}`);
      } else if (e.kind === 'log') {
        const s = steps.get(e);
        let d = dec.get(e.digest);
        if (d === undefined) dec.set(e.digest, (d = decoder()));
        s.tail.push(...takeLines(s, d.decode(e.data, { stream: true })));
        if (s.tail.length > TAIL_LINES) s.tail.splice(0, s.tail.length - TAIL_LINES);
      } else if (e.kind === 'miss') {
        const s = steps.get(e);
        s.tail.push(...e.reasons.map((r) => `cache miss: ${describeMissReason(r)}`));
        if (s.tail.length > TAIL_LINES) s.tail.splice(0, s.tail.length - TAIL_LINES);
      }
      dirty = true;
    },
    warning(w) {
      warnings.push(`${w.where === undefined ? '' : `${w.where}: `}${w.message}`);
      dirty = true;
    },
    close() {
      clearInterval(timer);
      dirty = true;
      redraw();
    },
  };
}

export function createRenderer(
  mode: ProgressMode,
  stream: { write(s: string): unknown; isTTY?: boolean; columns?: number },
): ProgressRenderer {
  const write = (s: string) => void stream.write(s);
  const m = mode === 'auto' ? (stream.isTTY === true ? 'tty' : 'plain') : mode;
  switch (m) {
    case 'tty':
      return ttyRenderer(write, () => stream.columns ?? 80);
    case 'plain':
      return plainRenderer(write);
    case 'json':
      return jsonRenderer(write);
    case 'quiet':
      return quietRenderer();
  }
}
