/**
 * `RUN --mount=…` values, as BuildKit reads them: comma-separated `key=value` fields (keys
 * case-insensitive, with aliases), a few bare flags (`ro`, `rw`, `required`), type-specific
 * checks and per-type defaults.
 *
 * BuildKit reads a mount twice: while parsing the Dockerfile, only the CSV syntax and `from`
 * (which may not use variables) are checked — see checkRunMountSyntax; once the RUN's
 * environment is known, every value is expanded and the mount fully parsed — parseRunMount.
 */
import type { MountSharing, RunMount, RunMountType } from './types.js';
import { CsvError, csvFields } from './csv.js';
import { fail, goQuoted, hintFor } from './errors.js';
import { goParseBool, goParseUint } from './gostrconv.js';
import { ramInBytes } from './units.js';
import type { SourceRange } from '../../errors/index.js';

const MOUNT_TYPES: readonly RunMountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING_MODES: readonly MountSharing[] = ['shared', 'private', 'locked'];
const ALL_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode',
  'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

function fields(value: string, range: SourceRange | undefined): string[] {
  try {
    return csvFields(value);
  } catch (e) {
    if (e instanceof CsvError) fail('BAD_FLAG', `failed to parse csv mounts: ${e.message}`, range);
    throw e;
  }
}

/**
 * The parse-time check of a raw (unexpanded) `--mount` value: CSV syntax, and no variable in
 * `from` (a `$` is allowed only as the last character).
 */
export function checkRunMountSyntax(value: string, range?: SourceRange): void {
  for (const field of fields(value, range)) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const key = field.slice(0, eq).toLowerCase();
    const v = field.slice(eq + 1);
    const dollar = v.indexOf('$');
    if (key === 'from' && dollar >= 0 && dollar !== v.length - 1) {
      fail('BAD_FLAG', `'${key}' doesn't support variable expansion, define alias stage instead`, range, 'define a stage with `FROM image AS name` and mount from that name');
    }
  }
}

interface Draft {
  type: RunMountType;
  from: string;
  source: string;
  target: string;
  readOnly: boolean;
  readOnlyGiven: boolean;
  size: number;
  id: string;
  sharing: MountSharing | '';
  required: boolean;
  env: string | undefined;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

/**
 * Parse one `--mount` value. `expand` is applied to each value (not key) after the CSV split,
 * as BuildKit does with the RUN's environment; without it values are taken literally.
 * Throws BuildError BAD_FLAG (with `range` when given).
 */
export function parseRunMount(value: string, expand?: (word: string) => string, range?: SourceRange): RunMount {
  const bad = (message: string, hint?: string): never => fail('BAD_FLAG', message, range, hint);
  const m: Draft = {
    type: 'bind', from: '', source: '', target: '', readOnly: false, readOnlyGiven: false, size: 0,
    id: '', sharing: '', required: false, env: undefined, mode: undefined, uid: undefined, gid: undefined,
  };
  const allowsRequired = (): boolean => m.type === 'secret' || m.type === 'ssh';
  const parseBoolValue = (key: string, v: string): boolean => {
    const b = goParseBool(v);
    return b ?? bad(`invalid value for ${key}: ${v}`);
  };

  for (const field of fields(value, range)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();

    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true;
          m.readOnlyGiven = true;
          continue;
        case 'readwrite':
        case 'rw':
          m.readOnly = false;
          m.readOnlyGiven = true;
          continue;
        case 'required':
          if (!allowsRequired()) bad(`unexpected key '${key}' for mount type '${m.type}'`);
          m.required = true;
          continue;
        default:
          bad(`invalid field '${field}' must be a key=value pair`);
      }
    }

    const v = expand === undefined ? field.slice(eq + 1) : expand(field.slice(eq + 1));
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          bad(`unsupported mount type ${goQuoted(v)}`, hintFor(v, MOUNT_TYPES, true));
        }
        m.type = t as RunMountType;
        break;
      }
      case 'from':
        m.from = v;
        break;
      case 'source':
      case 'src':
        m.source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = v;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = parseBoolValue(key, v);
        m.readOnlyGiven = true;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !parseBoolValue(key, v);
        m.readOnlyGiven = true;
        break;
      case 'required':
        if (!allowsRequired()) bad(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = parseBoolValue(key, v);
        break;
      case 'size': {
        if (m.type !== 'tmpfs') bad(`unexpected key '${key}' for mount type '${m.type}'`);
        const size = ramInBytes(v);
        if (typeof size === 'string') bad(`invalid value for ${key}: ${v}`);
        m.size = size as number;
        break;
      }
      case 'id':
        m.id = v;
        break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (!(SHARING_MODES as readonly string[]).includes(s)) {
          bad(`unsupported sharing value ${goQuoted(v)}`, hintFor(v, SHARING_MODES, true));
        }
        m.sharing = s as MountSharing;
        break;
      }
      case 'mode': {
        const n = goParseUint(v, 8, 32);
        m.mode = n === undefined ? bad(`invalid value ${v} for mode`) : Number(n);
        break;
      }
      case 'uid': {
        const n = goParseUint(v, 10, 32);
        m.uid = n === undefined ? bad(`invalid value ${v} for uid`) : Number(n);
        break;
      }
      case 'gid': {
        const n = goParseUint(v, 10, 32);
        m.gid = n === undefined ? bad(`invalid value ${v} for gid`) : Number(n);
        break;
      }
      case 'env':
        m.env = v;
        break;
      default:
        bad(`unexpected key '${key}' in '${field}'`, hintFor(key, ALL_KEYS, true));
    }
  }

  return finish(m, bad);
}

function finish(m: Draft, bad: (message: string) => never): RunMount {
  // File ownership and mode only make sense where BuildKit creates the file or directory.
  if (m.type === 'bind' || m.type === 'tmpfs') {
    if (m.mode !== undefined) bad(`mode not allowed for ${goQuoted(m.type)} type mounts`);
    if (m.uid !== undefined) bad(`uid not allowed for ${goQuoted(m.type)} type mounts`);
    if (m.gid !== undefined) bad(`gid not allowed for ${goQuoted(m.type)} type mounts`);
  }
  const readOnly = m.readOnlyGiven ? m.readOnly : !(m.type === 'cache' || m.type === 'tmpfs');

  if (m.type === 'secret') {
    if (m.from !== '') bad('secret mount should not have a from');
    if (m.sharing !== '') bad('secret mount should not define sharing');
    if (m.source === '' && m.target === '' && m.id === '') bad('invalid secret mount. one of source, target required');
    if (m.source !== '' && m.id !== '') bad("both source and id can't be set");
  }
  if (m.sharing !== '' && m.type !== 'cache') bad(`invalid cache sharing set for ${m.type} mount`);
  // BuildKit raises this one when it converts the mount; nothing else can change it.
  if (m.type === 'ssh' && m.source !== '') bad('ssh does not support source');

  const owner = {
    ...(m.mode === undefined ? {} : { mode: m.mode }),
    ...(m.uid === undefined ? {} : { uid: m.uid }),
    ...(m.gid === undefined ? {} : { gid: m.gid }),
  };
  switch (m.type) {
    case 'bind':
      return { type: 'bind', target: m.target, readOnly, from: m.from, source: m.source };
    case 'cache':
      return {
        type: 'cache', target: m.target, readOnly, id: m.id, sharing: m.sharing === '' ? 'shared' : m.sharing,
        from: m.from, source: m.source, ...owner,
      };
    case 'tmpfs':
      return { type: 'tmpfs', target: m.target, readOnly, size: m.size };
    case 'secret':
      return {
        type: 'secret', target: m.target, readOnly, id: m.id, source: m.source, required: m.required,
        ...(m.env === undefined ? {} : { env: m.env }), ...owner,
      };
    case 'ssh':
      return { type: 'ssh', target: m.target, readOnly, id: m.id, required: m.required, ...owner };
  }
}
