/** `--allow ENTITLEMENT` (repeatable, or comma-separated), as docker buildx takes it. */
import { BuildError } from '../errors/index.js';
import type { Entitlement } from '../build/index.js';
import { usageError } from './args.js';

const KNOWN: readonly Entitlement[] = ['security.insecure', 'network.host'];

/** The entitlements the flags grant; an unknown one is bad usage. */
export function parseAllowFlags(values: readonly string[]): ReadonlySet<Entitlement> {
  const out = new Set<Entitlement>();
  for (const value of values) {
    for (const item of value.split(',')) {
      if (item === '') continue;
      if ((KNOWN as readonly string[]).includes(item)) {
        out.add(item as Entitlement);
      } else if (item === 'device' || item.startsWith('device=')) {
        throw new BuildError('NOT_SUPPORTED', `not supported yet: --allow ${item} (RUN --device)`);
      } else {
        throw usageError(`unknown entitlement ${item}`, `--allow takes ${KNOWN.join(' or ')}`);
      }
    }
  }
  return out;
}
