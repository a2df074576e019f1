/**
 * The build-check options BuildKit reads from `# check=…` and from the build arg
 * BUILDKIT_DOCKERFILE_CHECK: `skip=RuleA,RuleB` or `skip=all`, `error=true|false`,
 * `experimental=RuleA,…|all`, separated by `;`.
 */

export interface CheckOptions {
  readonly skipAll: boolean;
  readonly skip: readonly string[];
  readonly experimentalAll: boolean;
  readonly experimental: readonly string[];
  /** Any warning left after skipping fails the build. */
  readonly error: boolean;
}

export const NO_CHECK_OPTIONS: CheckOptions = { skipAll: false, skip: [], experimentalAll: false, experimental: [], error: false };

/** Thrown with BuildKit's words for an option it would refuse. */
export class CheckOptionError extends Error {}

const goQuote = (s: string) => JSON.stringify(s);

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

const ruleList = (v: string) => v.split(',').map((r) => r.trim());

export function parseCheckOptions(text: string): CheckOptions {
  const trimmed = text.trim();
  if (trimmed === '') return NO_CHECK_OPTIONS;
  let skipAll = false;
  let skip: string[] = [];
  let experimentalAll = false;
  let experimental: string[] = [];
  let error = false;
  // As BuildKit splits: at most three parts, the third keeping any further `;`.
  const parts = trimmed.split(';');
  const limited = parts.length > 3 ? [...parts.slice(0, 2), parts.slice(2).join(';')] : parts;
  for (const part of limited) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new CheckOptionError(`invalid check option ${goQuote(part)}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    switch (key) {
      case 'skip':
        if (value === 'all') skipAll = true;
        else skip = ruleList(value);
        break;
      case 'experimental':
        if (value === 'all') experimentalAll = true;
        else experimental = ruleList(value);
        break;
      case 'error': {
        const b = parseBool(value);
        if (b === undefined) {
          throw new CheckOptionError(`failed to parse check option ${goQuote(part)}: strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`);
        }
        error = b;
        break;
      }
      default:
        throw new CheckOptionError(`invalid check option ${goQuote(key)}`);
    }
  }
  return { skipAll, skip, experimentalAll, experimental, error };
}
