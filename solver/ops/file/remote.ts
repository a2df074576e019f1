/**
 * COPY/ADD sources that are not paths: HTTP(S) URLs and git repositories. Neither is fetched
 * yet, so they are refused before anything runs, with what is wrong in the source first (the
 * checks BuildKit makes while converting the Dockerfile), then what is not supported.
 */
import { BuildError } from '../../../errors/index.js';
import { remoteKind } from '../../core/index.js';

export type RemoteKind = NonNullable<ReturnType<typeof remoteKind>>;

export { remoteKind };

export interface RemoteCheck {
  readonly instruction: 'COPY' | 'ADD';
  /** ADD --keep-git-dir, when given. */
  readonly keepGitDir?: boolean;
  /** ADD --checksum, when given. */
  readonly checksum?: string;
}

/** The error for the first remote source among `sources`, or undefined when all are paths. */
export function remoteSourceError(sources: readonly string[], check: RemoteCheck): BuildError | undefined {
  for (const src of sources) {
    const kind = remoteKind(src);
    if (kind === undefined) continue;
    if (kind === 'git') {
      const ref = parseGitQuery(src);
      if (typeof ref === 'string') return bad(`${src}: ${ref}`);
      if (check.instruction === 'COPY') return bad("source can't be a git ref for COPY");
      if (check.keepGitDir !== undefined && ref.keepGitDir !== undefined && check.keepGitDir !== ref.keepGitDir) {
        return bad('inconsistent keep-git-dir configuration');
      }
      if (check.checksum !== undefined && ref.checksum !== undefined && check.checksum !== ref.checksum) {
        return bad(`checksum mismatch ${JSON.stringify(check.checksum)} != ${JSON.stringify(ref.checksum)}`);
      }
      return new BuildError('NOT_SUPPORTED', `not supported yet: ADD from a git repository (${src})`, {
        hint: 'clone the repository into the build context, or in a RUN step',
      });
    }
    if (check.instruction === 'COPY') return bad("source can't be a URL for COPY");
    return new BuildError('NOT_SUPPORTED', `not supported yet: ADD from a URL (${src})`, {
      hint: 'download the file in a RUN step, or put it in the build context',
    });
  }
  return undefined;
}

function bad(message: string): BuildError {
  return new BuildError('BAD_INSTRUCTION', message);
}

interface GitQuery {
  readonly keepGitDir?: boolean;
  readonly checksum?: string;
}

/** The boolean query keys: the only ones that may be given without a value (then true). */
const FLAG_KEYS = new Set(['submodules', 'keep-git-dir', 'fetch-by-commit']);

/**
 * The `?key=value` options of a git source, checked as BuildKit checks them (its
 * dfgitutil.ParseGitRef): known keys, one value each, booleans as Go's ParseBool reads them,
 * and no two ways of naming the ref that disagree. A string is what is wrong.
 */
export function parseGitQuery(src: string): GitQuery | string {
  const hash = src.indexOf('#');
  const beforeFragment = hash < 0 ? src : src.slice(0, hash);
  const fragment = hash < 0 ? '' : src.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const fragmentRef = colon < 0 ? fragment : fragment.slice(0, colon);
  const fragmentSubdir = colon < 0 ? '' : fragment.slice(colon + 1);
  const q = beforeFragment.indexOf('?');
  if (q < 0) return {};
  const values = new Map<string, string[]>();
  for (const part of beforeFragment.slice(q + 1).split('&')) {
    if (part === '') continue;
    if (part.includes(';')) return 'invalid semicolon separator in query';
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeQuery(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? '' : decodeQuery(part.slice(eq + 1));
    } catch {
      return `invalid escape in query ${JSON.stringify(part)}`;
    }
    const list = values.get(key) ?? [];
    list.push(value);
    values.set(key, list);
  }
  let ref = fragmentRef;
  let subdir = fragmentSubdir;
  let tag = '';
  let branch = '';
  let keepGitDir: boolean | undefined;
  let checksum: string | undefined;
  for (const [key, list] of values) {
    if (list.length > 1) return `query ${JSON.stringify(key)} has multiple values`;
    const value = list[0]!;
    if (value === '' && !FLAG_KEYS.has(key)) return `query ${JSON.stringify(key)} has no value`;
    let flag: boolean | undefined;
    if (FLAG_KEYS.has(key)) {
      flag = value === '' ? true : goParseBool(value);
      if (flag === undefined) return `invalid ${key} value: ${JSON.stringify(value)}`;
    }
    switch (key) {
      case 'ref':
        if (ref !== '' && ref !== value) return `ref conflicts: ${JSON.stringify(ref)} vs ${JSON.stringify(value)}`;
        ref = value;
        break;
      case 'tag':
        tag = value;
        break;
      case 'branch':
        branch = value;
        break;
      case 'subdir':
        if (subdir !== '' && subdir !== value) return `subdir conflicts: ${JSON.stringify(subdir)} vs ${JSON.stringify(value)}`;
        subdir = value;
        break;
      case 'checksum':
      case 'commit':
        checksum = value;
        break;
      case 'keep-git-dir':
        keepGitDir = flag;
        break;
      case 'submodules':
      case 'fetch-by-commit':
        break;
      case 'mtime':
        if (value !== 'checkout' && value !== 'commit') return `invalid mtime value: ${JSON.stringify(value)} (must be "checkout" or "commit")`;
        break;
      default:
        return `unexpected query ${JSON.stringify(key)}`;
    }
  }
  if (tag !== '') {
    const full = tag.startsWith('refs/tags/') ? tag : `refs/tags/${tag}`;
    if (ref !== '' && ref !== full) return `ref conflicts: ${JSON.stringify(ref)} vs ${JSON.stringify(full)}`;
    ref = full;
  }
  if (branch !== '') {
    if (tag !== '') return 'branch conflicts with tag';
    const full = branch.startsWith('refs/heads/') ? branch : `refs/heads/${branch}`;
    if (ref !== '' && ref !== full) return `ref conflicts: ${JSON.stringify(ref)} vs ${JSON.stringify(full)}`;
  }
  return { ...(keepGitDir === undefined ? {} : { keepGitDir }), ...(checksum === undefined ? {} : { checksum }) };
}

/** Go's url.QueryUnescape: `+` is a space, `%XX` a byte. */
function decodeQuery(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

/** Go's strconv.ParseBool. */
function goParseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}
