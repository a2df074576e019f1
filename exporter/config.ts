/**
 * The image config (image-spec config.md; the same JSON serves Docker's
 * application/vnd.docker.container.image.v1+json). Built with BuildKit's key order so equal
 * inputs hash equally: top-level keys sorted (architecture, author, config, created, history,
 * os, rootfs, variant), the inner `config` in the Go struct order, empty fields left out.
 */
import type { Digest, HistoryEntry, ImageConfig, Platform } from '../oci/index.js';
import { ExporterError } from './errors.js';
import { goJsonBytes, goTime } from '../oci/index.js';

export interface ImageConfigInput {
  readonly config: ImageConfig;
  /** The image's `author` (MAINTAINER); left out when empty. */
  readonly author?: string;
  readonly platform: Platform;
  /** Uncompressed layer digests, bottom first. */
  readonly diffIds: readonly Digest[];
  /** One entry per step; entries without empty_layer match diffIds one to one. */
  readonly history: readonly HistoryEntry[];
  /** Image creation time; default now. Replaced by SOURCE_DATE_EPOCH when given. */
  readonly created?: Date;
  /** SOURCE_DATE_EPOCH (seconds): `created` becomes it, later history times are clamped to it. */
  readonly sourceDateEpoch?: number;
  /**
   * Top-level members beyond the spec's (the inline build cache), placed among the others in
   * sorted key order, as Go writes a map; they may not replace one of the spec's.
   */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The config JSON object, with keys in the order they are written. */
export function imageConfigObject(input: ImageConfigInput): Record<string, unknown> {
  const layered = input.history.filter((h) => !h.empty_layer).length;
  if (layered !== input.diffIds.length) {
    throw new ExporterError('BAD_IMAGE', `image history has ${layered} layer entries for ${input.diffIds.length} layers`);
  }
  const epoch = input.sourceDateEpoch === undefined ? undefined : epochDate(input.sourceDateEpoch);
  const created = epoch ?? input.created ?? new Date();
  const out: Record<string, unknown> = { architecture: input.platform.architecture };
  if (input.author) out['author'] = input.author;
  Object.assign(out, {
    config: containerConfig(input.config),
    created: goTime(created),
    history: input.history.map((h) => historyObject(h, epoch)),
    os: input.platform.os,
    rootfs: { type: 'layers', diff_ids: [...input.diffIds] },
  });
  if (input.platform.variant) out['variant'] = input.platform.variant;
  return input.extra === undefined ? out : withMembers(out, input.extra);
}

const SPEC_MEMBERS = new Set(['architecture', 'author', 'config', 'created', 'history', 'os', 'os.features', 'os.version', 'rootfs', 'variant']);

/** `out` with the `extra` members, every key in sorted order (the spec's members already are). */
function withMembers(out: Record<string, unknown>, extra: Readonly<Record<string, unknown>>): Record<string, unknown> {
  for (const key of Object.keys(extra)) {
    if (SPEC_MEMBERS.has(key)) throw new Error(`internal: the image config member ${key} is the spec's`);
  }
  const all: Record<string, unknown> = { ...out, ...extra };
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
}

export function imageConfigBytes(input: ImageConfigInput): Buffer {
  return goJsonBytes(imageConfigObject(input));
}

function epochDate(seconds: number): Date {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new ExporterError('BAD_IMAGE', `SOURCE_DATE_EPOCH must be a non-negative integer of seconds, got ${seconds}`);
  }
  return new Date(seconds * 1000);
}

function historyObject(h: HistoryEntry, epoch: Date | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const created = historyTime(h.created, epoch);
  if (created !== undefined) out['created'] = created;
  if (h.created_by) out['created_by'] = h.created_by;
  if (h.author) out['author'] = h.author;
  if (h.comment) out['comment'] = h.comment;
  if (h.empty_layer) out['empty_layer'] = true;
  return out;
}

function historyTime(created: string | Date | undefined, epoch: Date | undefined): string | undefined {
  if (created === undefined) return epoch === undefined ? undefined : goTime(epoch);
  const asDate = typeof created === 'string' ? new Date(created) : created;
  if (Number.isNaN(asDate.getTime())) throw new ExporterError('BAD_IMAGE', `history time "${String(created)}" is not RFC 3339`);
  if (epoch !== undefined && asDate.getTime() > epoch.getTime()) return goTime(epoch);
  // A base image's own string keeps its precision (JS dates stop at milliseconds).
  return typeof created === 'string' ? created : goTime(created);
}

/** The `config` member: OCI ImageConfig fields, then Docker's Healthcheck, OnBuild, Shell. */
function containerConfig(c: ImageConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown): void => {
    if (!isEmpty(value)) out[key] = value;
  };
  put('User', c.User);
  put('ExposedPorts', c.ExposedPorts);
  put('Env', c.Env);
  put('Entrypoint', c.Entrypoint);
  put('Cmd', c.Cmd);
  put('Volumes', c.Volumes);
  put('WorkingDir', c.WorkingDir);
  put('Labels', c.Labels);
  put('StopSignal', c.StopSignal);
  if (c.ArgsEscaped === true) out['ArgsEscaped'] = true;
  if (c.Healthcheck) {
    const h = c.Healthcheck;
    const hc: Record<string, unknown> = {};
    if (h.Test.length > 0) hc['Test'] = h.Test;
    if (h.Interval) hc['Interval'] = h.Interval;
    if (h.Timeout) hc['Timeout'] = h.Timeout;
    if (h.StartPeriod) hc['StartPeriod'] = h.StartPeriod;
    if (h.StartInterval) hc['StartInterval'] = h.StartInterval;
    if (h.Retries) hc['Retries'] = h.Retries;
    out['Healthcheck'] = hc;
  }
  put('OnBuild', c.OnBuild);
  put('Shell', c.Shell);
  return out;
}

/** Go's omitempty: nil, "", empty slices and maps are left out. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}
