/** One line of the build's JSON progress (`--progress json`) as an event; anything else (text the CLI printed) is none. */

export type ProgressEvent = Record<string, unknown> & { readonly kind: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseEvent(line: string): ProgressEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return isRecord(v) && typeof v['kind'] === 'string' ? (v as ProgressEvent) : undefined;
  } catch {
    return undefined;
  }
}
