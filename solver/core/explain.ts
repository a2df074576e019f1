/**
 * Why a step missed the cache: a step's cache key kept in a comparable form beside the key
 * (never hashed into it), and the comparison of that form with the one an earlier build
 * recorded for the same step. The solver makes the explanation of every key it computes;
 * a cache export writes it with the record; on a miss the solver compares it with the
 * imported one of the same step and emits the differences as a `miss` event.
 */
import { createHash } from 'node:crypto';

/** What a step read of a local directory by content, entry by entry (bounded by the op). */
export interface FileDigests {
  /** How many entries the step selected. */
  readonly count: number;
  /** A short digest of all of them (the content part of the key, shortened). */
  readonly sum: string;
  /** Path → short digest of what the key holds of it; absent when there were too many to list. */
  readonly paths?: Readonly<Record<string, string>>;
}

/**
 * An op's key as named parts (CacheMap.explain). `fields` holds each part of the op that can
 * change its result as text: `env:NAME` the value of a variable in a RUN's environment,
 * `image:REF` the manifest digest a base image's reference resolved to, any other name a part
 * of the op (its command, working directory, …).
 */
export interface KeyParts {
  readonly fields: Readonly<Record<string, string>>;
  readonly files?: FileDigests;
}

/** A step's key as a cache record keeps it: who the step is, its parts, and its inputs' keys (short). */
export interface StepExplanation extends KeyParts {
  /** What stays the same when its inputs change: its instruction as written and its stage. */
  readonly step: string;
  readonly inputs: readonly string[];
}

/** One difference between a step's key and the one an earlier build recorded for it. */
export type MissReason =
  /** Entries of the local directory it reads (lists capped at MAX_LISTED names in all; `more` not listed). */
  | { readonly kind: 'files'; readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[]; readonly more: number }
  /** The directory changed, but one of the two keys had too many entries to list. */
  | { readonly kind: 'many-files'; readonly before: number; readonly now: number }
  /** A variable of its environment that a build arg set (`build-arg`) or an ENV / the image did (`env`); undefined: not set. */
  | { readonly kind: 'build-arg' | 'env'; readonly name: string; readonly before?: string; readonly now?: string }
  /** The base image's reference resolved to another manifest. */
  | { readonly kind: 'base-image'; readonly ref: string; readonly before?: string; readonly now?: string }
  /** Another part of the op. */
  | { readonly kind: 'field'; readonly name: string; readonly before?: string; readonly now?: string }
  /** An input's key changed: the first step down the chain that changed by itself. */
  | { readonly kind: 'input'; readonly step: string }
  /** Nothing recorded differs: the earlier result under the same key is not there any more. */
  | { readonly kind: 'unavailable' };

/** How many paths a `files` reason names at most. */
export const MAX_LISTED = 10;
/** A field value longer than this is kept as a short digest of it. */
export const MAX_VALUE = 100;

/** A short digest of `text` (64 bits): enough to tell two versions of one part apart. */
export function shortDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** `value`, or a short digest of it when it is long (values are shown, never hashed). */
export function boundedValue(value: string): string {
  return value.length <= MAX_VALUE ? value : `<${value.length} characters, sha256 ${shortDigest(value)}…>`;
}

/** A step's identity as a record keeps it: a long instruction as its start and a short digest of the whole. */
export function boundedStep(step: string): string {
  return step.length <= MAX_VALUE ? step : `${step.slice(0, 64)}… (sha256 ${shortDigest(step)})`;
}

/** What the comparison needs of the step that missed, beyond its explanation. */
export interface MissContext {
  /** Names of its environment that build args set (ARGs in scope). */
  readonly buildArgs?: readonly string[];
  /** Per input (by position): its name, and the reasons it missed, if it did. */
  readonly input: (i: number) => { readonly name: string; readonly reasons?: readonly MissReason[] };
}

/**
 * The differences between `before` (recorded) and `now` (this build's key of the same step):
 * its own parts first (base image, variables, other fields, files), then the inputs whose keys
 * changed, each followed down to the first step that changed by itself.
 */
export function explainMiss(before: StepExplanation, now: StepExplanation, cx: MissContext): MissReason[] {
  const reasons: MissReason[] = [...fieldReasons(before.fields, now.fields, new Set(cx.buildArgs ?? []))];
  const files = fileReason(before.files, now.files);
  if (files !== undefined) reasons.push(files);
  const seen = new Set<string>();
  for (let i = 0; i < Math.max(before.inputs.length, now.inputs.length); i++) {
    if (before.inputs[i] === now.inputs[i] || i >= now.inputs.length) continue;
    const input = cx.input(i);
    const own = input.reasons ?? [];
    // An input that changed only because of its own inputs passes their names on.
    const steps = own.length > 0 && own.every((r) => r.kind === 'input') ? own.map((r) => (r as { step: string }).step) : [input.name];
    for (const step of steps) {
      if (seen.has(step)) continue;
      seen.add(step);
      reasons.push({ kind: 'input', step });
    }
  }
  return reasons.length > 0 ? reasons : [{ kind: 'unavailable' }];
}

function* fieldReasons(before: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>, buildArgs: ReadonlySet<string>): Generator<MissReason> {
  const names = [...new Set([...Object.keys(before), ...Object.keys(now)])];
  // Base images first, then variables, then the rest, each in name order.
  const rank = (n: string) => (n.startsWith('image:') ? 0 : n.startsWith('env:') ? 1 : 2);
  names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const b = Object.hasOwn(before, name) ? before[name] : undefined;
    const n = Object.hasOwn(now, name) ? now[name] : undefined;
    if (b === n) continue;
    const values = { ...(b === undefined ? {} : { before: b }), ...(n === undefined ? {} : { now: n }) };
    if (name.startsWith('image:')) yield { kind: 'base-image', ref: name.slice('image:'.length), ...values };
    else if (name.startsWith('env:')) {
      const variable = name.slice('env:'.length);
      yield { kind: buildArgs.has(variable) ? 'build-arg' : 'env', name: variable, ...values };
    } else yield { kind: 'field', name, ...values };
  }
}

function fileReason(before: FileDigests | undefined, now: FileDigests | undefined): MissReason | undefined {
  if (before === undefined || now === undefined || before.sum === now.sum) return undefined;
  // Past the cap, which entries changed is not known; that some did is.
  if (before.paths === undefined || now.paths === undefined) return { kind: 'many-files', before: before.count, now: now.count };
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [path, digest] of Object.entries(now.paths)) {
    const old = Object.hasOwn(before.paths, path) ? before.paths[path] : undefined;
    if (old === undefined) added.push(path);
    else if (old !== digest) changed.push(path);
  }
  for (const path of Object.keys(before.paths)) if (!Object.hasOwn(now.paths, path)) removed.push(path);
  const total = added.length + removed.length + changed.length;
  // The same entries, selected otherwise (another source path): the sums tell it apart.
  if (total === 0) return { kind: 'many-files', before: before.count, now: now.count };
  // Changed first (the common case), then added, then removed, up to MAX_LISTED names.
  let room = MAX_LISTED;
  const take = (list: string[]) => {
    const out = list.sort().slice(0, room);
    room -= out.length;
    return out;
  };
  const c = take(changed);
  const a = take(added);
  const r = take(removed);
  return { kind: 'files', added: a, removed: r, changed: c, more: total - a.length - r.length - c.length };
}
