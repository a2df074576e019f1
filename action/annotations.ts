/**
 * One item of the `annotations` input, as buildx reads `--annotation`:
 * `[LEVEL[PLATFORM]:]KEY=VALUE`, LEVEL one of `manifest` (the default), `index`,
 * `manifest-descriptor`, `index-descriptor`; a platform only on the manifest levels.
 * docker/metadata-action writes `manifest:KEY=VALUE` and, with more levels asked,
 * `index:KEY=VALUE` lines: they are read unchanged.
 */
import { BuildError } from '../errors/index.js';

export type AnnotationLevel = 'manifest' | 'index' | 'manifest-descriptor' | 'index-descriptor';

export interface Annotation {
  readonly level: AnnotationLevel;
  /** `os/arch[/variant]`, for manifest levels only. */
  readonly platform?: string;
  readonly key: string;
  readonly value: string;
}

const LEVELS: readonly string[] = ['manifest', 'index', 'manifest-descriptor', 'index-descriptor'];
const PREFIX = /^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$/;

const bad = (item: string, why: string) =>
  new BuildError('USAGE', `input "annotations": invalid annotation ${JSON.stringify(item)}: ${why}`, {
    hint: 'write [manifest|index|manifest-descriptor|index-descriptor[PLATFORM]:]KEY=VALUE',
  });

export function parseAnnotation(item: string): Annotation {
  const eq = item.indexOf('=');
  if (eq < 0) throw bad(item, 'no "="');
  const head = item.slice(0, eq);
  const value = item.slice(eq + 1);
  const colon = head.indexOf(':');
  let level: AnnotationLevel = 'manifest';
  let platform: string | undefined;
  let key = head;
  if (colon >= 0) {
    const m = PREFIX.exec(head.slice(0, colon));
    if (m === null || !LEVELS.includes(m[1]!)) throw bad(item, `unknown level "${head.slice(0, colon)}"`);
    level = m[1] as AnnotationLevel;
    platform = m[2];
    key = head.slice(colon + 1);
    if (platform !== undefined && level.startsWith('index')) throw bad(item, `an ${level} annotation takes no platform`);
  }
  if (key === '') throw bad(item, 'the key is empty');
  return { level, ...(platform === undefined ? {} : { platform }), key, value };
}
