/**
 * HEALTHCHECK: `NONE`, or `[--interval=… --timeout=… --start-period=… --start-interval=…
 * --retries=N] CMD command`, with BuildKit's checks and messages.
 */
import type { InstructionNode } from '../parser/ast.js';
import type { Healthcheck } from './types.js';
import { DurationError, parseGoDuration } from './duration.js';
import { fail, goQuoted } from './errors.js';
import { flagRange, parseFlags } from './flags.js';
import { goParseInt } from './gostrconv.js';

const MIN_INTERVAL_NS = 1_000_000n; // 1ms

const DURATION_FLAGS = [
  ['interval', 'interval'],
  ['timeout', 'timeout'],
  ['start-period', 'startPeriod'],
  ['start-interval', 'startInterval'],
] as const;

export function parseHealthcheck(node: InstructionNode): Healthcheck {
  const fault = (message: string, hint?: string): never => fail('BAD_INSTRUCTION', message, node.range, hint);
  if (node.args.length === 0) fail('MISSING_ARGUMENT', 'HEALTHCHECK requires at least one argument', node.range, 'use HEALTHCHECK CMD command, or HEALTHCHECK NONE');

  const type = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  // NONE reads no flags at all: BuildKit ignores any written before it.
  if (type === 'NONE') {
    if (rest.length !== 0) fault('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'] };
  }

  const flags = parseFlags(node.flags, {
    interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string',
  });
  if (type !== 'CMD') fault(`Unknown type ${goQuoted(type)} in HEALTHCHECK (try CMD)`, 'use HEALTHCHECK CMD command, or HEALTHCHECK NONE');
  const command = rest.length === 0 ? [] : node.json ? rest : [rest.join(' ')];
  if (command.length === 0) fault('Missing command after HEALTHCHECK CMD');
  const test = [node.json ? 'CMD' : 'CMD-SHELL', ...command];

  const health: { -readonly [K in keyof Healthcheck]: Healthcheck[K] } = { test };
  for (const [flag, field] of DURATION_FLAGS) {
    const ns = interval(flags.string(flag), flag, node);
    if (ns !== 0n) health[field] = Number(ns);
  }

  const retriesText = flags.string('retries');
  if (retriesText !== undefined && retriesText !== '') {
    const range = flagRange(node.flags, 'retries') ?? node.range;
    const r = goParseInt(retriesText, 10, 32);
    if ('error' in r) fail('BAD_FLAG', `strconv.ParseInt: parsing ${goQuoted(retriesText)}: ${r.error}`, range);
    const retries = (r as { value: bigint }).value;
    if (retries < 0n) fail('BAD_FLAG', `--retries cannot be negative (${retries})`, range);
    if (retries !== 0n) health.retries = Number(retries);
  }
  return health;
}

/** A duration flag in nanoseconds; 0 when absent, empty or zero. Below 1ms is an error. */
function interval(text: string | undefined, flag: string, node: InstructionNode): bigint {
  if (text === undefined || text === '') return 0n;
  const range = flagRange(node.flags, flag) ?? node.range;
  let ns: bigint;
  try {
    ns = parseGoDuration(text);
  } catch (e) {
    if (e instanceof DurationError) fail('BAD_FLAG', e.message, range, 'durations are written like 30s, 1m30s or 500ms');
    throw e;
  }
  if (ns === 0n) return 0n;
  if (ns < MIN_INTERVAL_NS) fail('BAD_FLAG', `Interval ${goQuoted(flag)} cannot be less than 1ms`, range);
  return ns;
}
