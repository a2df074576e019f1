/**
 * The step's log, rendered from the build's JSON progress (`--progress json`, one event a line):
 * plain lines in foldable groups, one group per build step.
 *
 * Why a group per step: the runner's groups do not nest and cannot interleave, while the build
 * runs independent steps at once. A group holds one step, so each folds to a line naming it;
 * the step whose group is open streams live, the others' lines wait (whole) until that group
 * ends, so no group ever holds another step's lines. A step with nothing to show (CACHED) is one
 * line outside any group. A failed step is never folded away: its whole output, unclipped (the
 * JSON events carry every byte; the error's hint keeps only the last lines), is printed outside
 * any group, with its error.
 */
import { TextDecoder } from 'node:util';
import { parseEvent } from './events.js';
import { endGroupCommand, groupCommand, warningCommand } from './workflow.js';

/** A step that failed, as its events told it. */
export interface FailedStep {
  readonly name: string;
  readonly error: string;
}

export interface LogRenderer {
  /** One line of the build's standard error: an event, or text the CLI printed (its error). */
  line(text: string): void;
  /** Every group closed and every waiting step shown; what the events said. */
  finish(): LogResult;
}

export interface LogResult {
  readonly failed: readonly FailedStep[];
  /** Lines that were no event (the CLI's error message), in order. */
  readonly text: readonly string[];
  /** Whether any event was seen (none: the build never started). */
  readonly events: boolean;
}

interface StepLog {
  readonly n: number;
  readonly name: string;
  started?: number;
  state: 'started' | 'cached' | 'done' | 'failed';
  error?: string;
  /** Lines not yet written (the step's group is not open). */
  pending: string[];
  /** Every output line of the step, for a failure. */
  readonly output: string[];
  partial: string;
  readonly decoder: TextDecoder;
  /** Its group was opened (its lines so far were written inside it). */
  shown: boolean;
}


const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function logRenderer(write: (s: string) => void): LogRenderer {
  const steps = new Map<string, StepLog>();
  /** Steps that ended while another's group was open: shown, in order, when it closes. */
  const ended: StepLog[] = [];
  const failed: FailedStep[] = [];
  const text: string[] = [];
  let open: StepLog | undefined;
  let next = 1;
  let events = false;

  const stepOf = (digest: string, name?: string): StepLog => {
    let s = steps.get(digest);
    if (s === undefined) {
      s = { n: next++, name: name ?? digest, state: 'started', pending: [], output: [], partial: '', decoder: new TextDecoder('utf-8', { fatal: false }), shown: false };
      steps.set(digest, s);
    }
    return s;
  };
  // Every line of a step starts with `#N ` as in plain progress: a line the build printed can
  // then never be a workflow command (the runner takes a line starting with `::` for one).
  const put = (s: StepLog, line: string) => write(`#${s.n} ${line}\n`);
  const emit = (s: StepLog, line: string) => {
    if (s === open) put(s, line);
    else s.pending.push(line);
  };
  const title = (s: StepLog) => `#${s.n} ${s.name}`;
  const openGroup = (s: StepLog) => {
    open = s;
    s.shown = true;
    write(groupCommand(title(s)));
    for (const l of s.pending) put(s, l);
    s.pending = [];
  };
  /** An ended step shown whole: a line when it has nothing more to say, else its group; a failure unfolded. */
  const showEnded = (s: StepLog) => {
    if (s.state === 'failed') return showFailure(s);
    if (s.pending.length <= 1 && !s.shown) {
      write(`${title(s)} ${s.pending[0] ?? ''}`.trimEnd() + '\n');
      s.pending = [];
      return;
    }
    openGroup(s);
    write(endGroupCommand());
    open = undefined;
  };
  const showFailure = (s: StepLog) => {
    put(s, `ERROR in ${s.name}: ${s.error ?? 'failed'}`);
    if (s.output.length === 0) put(s, '(the step printed nothing)');
    else {
      put(s, `its whole output (${s.output.length} lines):`);
      for (const l of s.output) put(s, l);
    }
    s.pending = [];
  };
  /** The open group ended: show what ended meanwhile, then open the earliest step still running. */
  const advance = () => {
    while (ended.length > 0) showEnded(ended.shift()!);
    const running = [...steps.values()].find((s) => s.state === 'started' && s.started !== undefined);
    if (running !== undefined) openGroup(running);
  };
  const end = (s: StepLog) => {
    if (s.partial !== '') {
      s.output.push(s.partial);
      emit(s, s.partial);
      s.partial = '';
    }
    if (s === open) {
      write(endGroupCommand());
      open = undefined;
      if (s.state === 'failed') showFailure(s);
      advance();
    } else if (open === undefined) {
      showEnded(s);
    } else {
      ended.push(s);
    }
  };

  const onEvent = (e: Record<string, unknown>) => {
    const digest = str(e['digest']);
    if (e['kind'] === 'warning') {
      const where = str(e['where']);
      write(warningCommand(`${where === undefined ? '' : `${where}: `}${str(e['message']) ?? ''}`));
      return;
    }
    if (digest === undefined) return;
    if (e['kind'] === 'vertex') {
      const state = str(e['state']);
      if (e['internal'] === true && state !== 'failed') return;
      const s = stepOf(digest, str(e['name']));
      const at = typeof e['at'] === 'number' ? e['at'] : undefined;
      if (state === 'started') {
        s.started = at ?? 0;
        if (open === undefined) openGroup(s);
      } else if (state === 'cached') {
        s.state = 'cached';
        emit(s, 'CACHED');
        end(s);
      } else if (state === 'done') {
        s.state = 'done';
        emit(s, `DONE ${seconds(Math.max(0, (at ?? 0) - (s.started ?? at ?? 0)))}`);
        end(s);
      } else if (state === 'failed') {
        s.state = 'failed';
        s.error = str(e['error']) ?? 'failed';
        failed.push({ name: s.name, error: s.error });
        emit(s, `ERROR: ${s.error}`);
        end(s);
      }
    } else if (e['kind'] === 'log') {
      const s = stepOf(digest);
      const data = Buffer.from(str(e['data']) ?? '', 'base64');
      const lines = (s.partial + s.decoder.decode(data, { stream: true })).split('\n');
      s.partial = lines.pop() ?? '';
      for (const l of lines.map((x) => x.replace(/\r$/, ''))) {
        s.output.push(l);
        emit(s, l);
      }
    } else if (e['kind'] === 'miss') {
      const s = stepOf(digest);
      const reasons = Array.isArray(e['text']) ? e['text'].filter((t): t is string => typeof t === 'string') : [];
      for (const r of reasons) emit(s, `cache miss: ${r}`);
    } else if (e['kind'] === 'status') {
      const s = stepOf(digest);
      const total = typeof e['total'] === 'number' ? ` / ${e['total']}` : '';
      emit(s, `${str(e['id']) ?? ''} ${String(e['current'])}${total}`);
    }
  };

  return {
    line(l) {
      const e = parseEvent(l.trim());
      if (e === undefined) {
        if (l.trim() !== '') text.push(l);
        return;
      }
      events = true;
      onEvent(e);
    },
    finish() {
      // Steps the build never finished (it stopped at another's failure): what they printed.
      if (open !== undefined) {
        if (open.partial !== '') put(open, open.partial);
        put(open, '(did not finish)');
        write(endGroupCommand());
        open = undefined;
      }
      while (ended.length > 0) showEnded(ended.shift()!);
      for (const s of steps.values()) {
        if (s.state !== 'started' || s.shown || (s.pending.length === 0 && s.partial === '')) continue;
        if (s.partial !== '') s.pending.push(s.partial);
        s.pending.push('(did not finish)');
        openGroup(s);
        write(endGroupCommand());
        open = undefined;
      }
      return { failed, text, events };
    },
  };
}
