/**
 * Syntax-tree nodes → typed instructions, with BuildKit's per-instruction rules: which flags
 * each accepts, argument counts, and the checks it makes while parsing (in the same order, so
 * the same error wins). Words stay unexpanded.
 *
 * Why one file: BuildKit's checks run in one order across instructions, and keeping every
 * instruction's rules side by side is what keeps that order (and so the error that wins) the same.
 */
import { isBuildError, type ErrorCode, type SourceRange } from '../../errors/index.js';
import type { DockerfileAST, InstructionNode, ParseWarning } from '../parser/ast.js';
import type {
  AddInstruction, ArgDeclaration, ArgInstruction, CmdInstruction, CommandLine, CopyInstruction,
  EntrypointInstruction, EnvInstruction, ExposeInstruction, FromInstruction, HealthcheckInstruction,
  HeredocSource, Instruction, KeyValue, LabelInstruction, MaintainerInstruction, OnbuildInstruction,
  OnbuildTrigger, RunDevice, RunInstruction, RunNetwork, RunSecurity, ShellInstruction,
  StopSignalInstruction, UserInstruction, VolumeInstruction, WorkdirInstruction,
} from './types.js';
import { fail, goQuoted, hintFor } from './errors.js';
import { flagRange, parseFlags } from './flags.js';
import { chompHeredoc, heredocWord } from './heredoc.js';
import { checkRunMountSyntax } from './runmount.js';
import { parseRunDevice } from './device.js';
import { parseHealthcheck } from './healthcheck.js';
import { goTrimSpace, sortByBytes } from './text.js';

export interface InstructionContext {
  /** Receives BuildKit's parse-time lint warnings (StageNameCasing, FromAsCasing, MaintainerDeprecated). */
  readonly warn?: (warning: ParseWarning) => void;
}

/** Every instruction keyword BuildKit knows, upper-case. */
export const INSTRUCTION_NAMES: readonly string[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

/** What each parser receives: the node plus its common fields, computed once. */
interface Req {
  readonly node: InstructionNode;
  readonly args: readonly string[];
  readonly base: { readonly range: SourceRange; readonly keywordRange: SourceRange; readonly original: string };
  readonly ctx: InstructionContext;
}

/** Parse one instruction node. Throws BuildError. */
export function parseInstruction(node: InstructionNode, ctx: InstructionContext = {}): Instruction {
  const req: Req = {
    node,
    args: node.args,
    base: { range: node.range, keywordRange: node.keywordRange, original: goTrimSpace(node.original) },
    ctx,
  };
  const parser = PARSERS[node.keyword];
  if (parser === undefined) {
    const written = keywordAsWritten(node);
    fail('UNKNOWN_INSTRUCTION', `unknown instruction: ${written}`, node.keywordRange, hintFor(written, INSTRUCTION_NAMES, false));
  }
  return parser(req);
}

/** Parse every instruction of a Dockerfile, in order. Throws the first BuildError. */
export function parseInstructions(ast: DockerfileAST, ctx: InstructionContext = {}): Instruction[] {
  return ast.instructions.map((n) => parseInstruction(n, ctx));
}

const PARSERS: Readonly<Record<string, (req: Req) => Instruction>> = {
  from: parseFrom,
  run: parseRun,
  cmd: (r): CmdInstruction => ({ kind: 'cmd', ...r.base, ...commandLine(r, 'cmd') }),
  entrypoint: (r): EntrypointInstruction => ({ kind: 'entrypoint', ...r.base, ...commandLine(r, 'entrypoint') }),
  shell: parseShell,
  env: (r): EnvInstruction => ({ kind: 'env', ...r.base, env: keyValues(r, 'ENV') }),
  label: (r): LabelInstruction => ({ kind: 'label', ...r.base, labels: keyValues(r, 'LABEL') }),
  arg: parseArg,
  copy: parseCopy,
  add: parseAdd,
  workdir: (r): WorkdirInstruction => ({ kind: 'workdir', ...r.base, path: exactlyOne(r, 'WORKDIR', true) }),
  user: (r): UserInstruction => ({ kind: 'user', ...r.base, user: exactlyOne(r, 'USER', true) }),
  expose: parseExpose,
  volume: parseVolume,
  // BuildKit reads no flags on STOPSIGNAL (nor on ARG): any written are ignored.
  stopsignal: (r): StopSignalInstruction => ({ kind: 'stopsignal', ...r.base, signal: exactlyOne(r, 'STOPSIGNAL', false) }),
  healthcheck: (r): HealthcheckInstruction => ({ kind: 'healthcheck', ...r.base, health: parseHealthcheck(r.node) }),
  onbuild: parseOnbuild,
  maintainer: parseMaintainer,
};

function keywordAsWritten(node: InstructionNode): string {
  const m = /^[\t\n\v\f\r ]*([^\t\n\v\f\r ]+)/.exec(node.original);
  return m?.[1] ?? node.keyword.toUpperCase();
}

function missing(r: Req, message: string, hint?: string): never {
  return fail('MISSING_ARGUMENT', message, r.node.range, hint);
}

function problem(r: Req, code: ErrorCode, message: string, hint?: string): never {
  return fail(code, message, r.node.range, hint);
}

/** Instructions that take no flags still reject any flag written. */
function noFlags(r: Req): void {
  parseFlags(r.node.flags, {});
}

function exactlyOne(r: Req, name: string, readsFlags: boolean): string {
  if (r.args.length !== 1) missing(r, `${name} requires exactly one argument`);
  if (readsFlags) noFlags(r);
  return r.args[0]!;
}

// ---------------------------------------------------------------------------------------------

const STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;

function parseFrom(r: Req): FromInstruction {
  lintFrom(r);
  const args = r.args;
  let stageName: string | undefined;
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    stageName = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      problem(
        r, 'BAD_STAGE',
        `invalid name for build stage: ${goQuoted(args[2]!)}, name can't start with a number or contain symbols`,
        'a stage name starts with a letter and holds only letters, digits, "-", "_" and "."',
      );
    }
  } else if (args.length !== 1) {
    problem(r, args.length === 0 ? 'MISSING_ARGUMENT' : 'BAD_INSTRUCTION', 'FROM requires either one or three arguments', 'use FROM image or FROM image AS name');
  }
  const flags = parseFlags(r.node.flags, { platform: 'string' });
  const platform = flags.string('platform');
  return {
    kind: 'from',
    ...r.base,
    image: args[0]!,
    ...(stageName === undefined ? {} : { stageName }),
    ...(platform === undefined || platform === '' ? {} : { platform }),
  };
}

/** BuildKit's parse-time lints on FROM; they run before (and regardless of) errors. */
function lintFrom(r: Req): void {
  const warn = r.ctx.warn;
  if (warn === undefined || r.args.length < 3) return;
  const range = r.node.range;
  if (r.args.length === 3) {
    const name = r.args[2]!;
    if (name !== name.toLowerCase()) {
      warn({ code: 'StageNameCasing', message: `Stage name '${name}' should be lowercase`, range });
    }
  }
  const from = keywordAsWritten(r.node);
  const as = r.args[1]!;
  const fromLower = from === from.toLowerCase();
  const fromUpper = from === from.toUpperCase();
  if ((fromLower && as !== as.toLowerCase()) || (!fromLower && fromUpper && as !== as.toUpperCase())) {
    warn({ code: 'FromAsCasing', message: `'${as}' and '${from}' keywords' casing do not match`, range });
  }
}

// ---------------------------------------------------------------------------------------------

/** RUN / CMD / ENTRYPOINT: BuildKit's handleJSONArgs plus heredoc files. */
function commandLine(r: Req, kind: 'run' | 'cmd' | 'entrypoint'): CommandLine {
  if (kind !== 'run') noFlags(r);
  const n = r.node;
  const args = r.args.length === 0 ? [] : n.json ? [...r.args] : [r.args.join(' ')];
  return {
    args,
    prependShell: !n.json,
    files: n.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp, expand: h.expand })),
  };
}

const NETWORKS: readonly RunNetwork[] = ['default', 'none', 'host'];
const SECURITY_MODES: readonly RunSecurity[] = ['sandbox', 'insecure'];

function parseRun(r: Req): RunInstruction {
  const flags = parseFlags(r.node.flags, { mount: 'strings', network: 'string', security: 'string', device: 'strings' });
  const line = commandLine(r, 'run');
  const rangeOf = (name: string): SourceRange => flagRange(r.node.flags, name) ?? r.node.range;

  // BuildKit's post-parse checks, in its order: devices, mounts, network, security.
  const devices: RunDevice[] = [];
  const deviceFlags = r.node.flags.filter((f) => f.text.startsWith('--device='));
  flags.strings('device').forEach((v, i) => devices.push(parseRunDevice(v, deviceFlags[i]?.range ?? r.node.range)));

  const mounts = flags.strings('mount');
  const mountFlags = r.node.flags.filter((f) => f.text.startsWith('--mount='));
  mounts.forEach((v, i) => checkRunMountSyntax(v, mountFlags[i]?.range ?? r.node.range));

  const network = flags.string('network') ?? 'default';
  if (!(NETWORKS as readonly string[]).includes(network)) {
    fail('BAD_FLAG', `invalid network mode ${goQuoted(network)}`, rangeOf('network'), `--network takes ${NETWORKS.join(', ')}`);
  }
  const security = flags.string('security') ?? 'sandbox';
  if (!(SECURITY_MODES as readonly string[]).includes(security)) {
    fail('BAD_FLAG', `security ${goQuoted(security)} is not valid`, rangeOf('security'), `--security takes ${SECURITY_MODES.join(' or ')}`);
  }

  return {
    kind: 'run',
    ...r.base,
    ...line,
    mounts,
    network: network as RunNetwork,
    security: security as RunSecurity,
    devices,
    flagsUsed: flags.used,
  };
}

function parseShell(r: Req): ShellInstruction {
  noFlags(r);
  if (r.args.length === 0) missing(r, 'SHELL requires at least one argument');
  if (!r.node.json) {
    problem(r, 'BAD_JSON', 'SHELL requires the arguments to be in JSON form', 'write SHELL ["executable", "parameters"]');
  }
  return { kind: 'shell', ...r.base, shell: [...r.args] };
}

// ---------------------------------------------------------------------------------------------

function keyValues(r: Req, name: 'ENV' | 'LABEL'): KeyValue[] {
  noFlags(r);
  const a = r.args;
  if (a.length === 0) missing(r, `${name} requires at least one argument`);
  if (a.length % 3 !== 0) problem(r, 'BAD_INSTRUCTION', `Bad input to ${name}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < a.length; i += 3) {
    if (a[i] === '') problem(r, 'BAD_INSTRUCTION', `${name} names can not be blank`);
    out.push({ key: a[i]!, value: a[i + 1]!, noDelim: a[i + 2] === '' });
  }
  return out;
}

function parseArg(r: Req): ArgInstruction {
  if (r.args.length === 0) missing(r, 'ARG requires at least one argument');
  const args: ArgDeclaration[] = r.args.map((word) => {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (eq === 0) problem(r, 'BAD_INSTRUCTION', 'ARG names can not be blank');
    const docComment = docCommentFor(r.node.comments, key);
    return {
      key,
      ...(eq < 0 ? {} : { value: word.slice(eq + 1) }),
      ...(docComment === undefined ? {} : { docComment }),
    };
  });
  return { kind: 'arg', ...r.base, args };
}

/** The rest of the first comment line that starts with `name `. */
function docCommentFor(comments: readonly string[], name: string): string | undefined {
  if (name === '') return undefined;
  for (const line of comments) if (line.startsWith(name + ' ')) return line.slice(name.length + 1);
  return undefined;
}

// ---------------------------------------------------------------------------------------------

interface SourcesAndDest {
  sources: string[];
  heredocSources: HeredocSource[];
  dest: string;
}

function sourcesAndDest(r: Req, name: 'COPY' | 'ADD'): SourcesAndDest {
  const dest = r.args[r.args.length - 1]!;
  if (heredocWord(dest) !== undefined) {
    problem(r, 'BAD_INSTRUCTION', `${name} cannot accept a heredoc as a destination`, 'the last argument is where files go; put heredocs before it');
  }
  const bodies = new Map(r.node.heredocs.map((h) => [h.name, h.content]));
  const sources: string[] = [];
  const heredocSources: HeredocSource[] = [];
  for (const src of r.args.slice(0, -1)) {
    const h = heredocWord(src);
    if (h === undefined) {
      sources.push(src);
      continue;
    }
    const body = bodies.get(h.name) ?? '';
    heredocSources.push({ path: h.name, data: h.chomp ? chompHeredoc(body) : body, expand: h.expand, chomp: h.chomp });
  }
  return { sources, heredocSources, dest };
}

function tooFewForCopy(r: Req, name: 'COPY' | 'ADD'): void {
  if (r.args.length < 2) {
    missing(r, `${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
}

/** A string flag's value; "" is the same as not given, as in BuildKit. */
function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function parseCopy(r: Req): CopyInstruction {
  tooFewForCopy(r, 'COPY');
  const f = parseFlags(r.node.flags, {
    chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool',
  });
  const sd = sourcesAndDest(r, 'COPY');
  const from = nonEmpty(f.string('from'));
  const chown = nonEmpty(f.string('chown'));
  const chmod = nonEmpty(f.string('chmod'));
  return {
    kind: 'copy',
    ...r.base,
    ...sd,
    ...(from === undefined ? {} : { from }),
    ...(chown === undefined ? {} : { chown }),
    ...(chmod === undefined ? {} : { chmod }),
    link: f.bool('link') ?? false,
    parents: f.bool('parents') ?? false,
    exclude: f.strings('exclude'),
  };
}

function parseAdd(r: Req): AddInstruction {
  tooFewForCopy(r, 'ADD');
  const f = parseFlags(r.node.flags, {
    chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool',
    exclude: 'strings',
  });
  const sd = sourcesAndDest(r, 'ADD');
  const chown = nonEmpty(f.string('chown'));
  const chmod = nonEmpty(f.string('chmod'));
  const checksum = nonEmpty(f.string('checksum'));
  const keepGitDir = f.bool('keep-git-dir');
  const unpack = f.bool('unpack');
  return {
    kind: 'add',
    ...r.base,
    ...sd,
    ...(chown === undefined ? {} : { chown }),
    ...(chmod === undefined ? {} : { chmod }),
    link: f.bool('link') ?? false,
    exclude: f.strings('exclude'),
    ...(keepGitDir === undefined ? {} : { keepGitDir }),
    ...(checksum === undefined ? {} : { checksum }),
    ...(unpack === undefined ? {} : { unpack }),
  };
}

// ---------------------------------------------------------------------------------------------

function parseExpose(r: Req): ExposeInstruction {
  if (r.args.length === 0) missing(r, 'EXPOSE requires at least one argument');
  noFlags(r);
  return { kind: 'expose', ...r.base, ports: sortByBytes(r.args) };
}

function parseVolume(r: Req): VolumeInstruction {
  if (r.args.length === 0) missing(r, 'VOLUME requires at least one argument');
  noFlags(r);
  const paths = r.args.map((v) => {
    const p = goTrimSpace(v);
    if (p === '') problem(r, 'BAD_INSTRUCTION', 'VOLUME specified can not be an empty string');
    return p;
  });
  return { kind: 'volume', ...r.base, paths };
}

function parseMaintainer(r: Req): MaintainerInstruction {
  const maintainer = exactlyOne(r, 'MAINTAINER', true);
  r.ctx.warn?.({
    code: 'MaintainerDeprecated',
    message: 'Maintainer instruction is deprecated in favor of using label',
    range: r.node.range,
  });
  return { kind: 'maintainer', ...r.base, maintainer };
}

// ---------------------------------------------------------------------------------------------

function parseOnbuild(r: Req): OnbuildInstruction {
  const trigger = r.node.onbuild;
  if (trigger === undefined) missing(r, 'ONBUILD requires at least one argument');
  noFlags(r);
  const name = trigger!.keyword.toUpperCase();
  if (name === 'ONBUILD') {
    problem(r, 'BAD_INSTRUCTION', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  }
  if (name === 'MAINTAINER' || name === 'FROM') {
    problem(r, 'BAD_INSTRUCTION', `${name} isn't allowed as an ONBUILD trigger`);
  }

  // The expression stored in the image: the source after the keyword, heredoc bodies appended.
  let expression = r.node.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  const heredocs = r.node.heredocs.length > 0 ? r.node.heredocs : trigger!.heredocs;
  for (const h of heredocs) expression += '\n' + h.content + h.name;

  return { kind: 'onbuild', ...r.base, expression, trigger: parseTrigger(trigger!) };
}

/** The trigger is only validated when an image using it is built: keep its error as data. */
function parseTrigger(node: InstructionNode): OnbuildTrigger {
  try {
    return { ok: true, instruction: parseInstruction(node) };
  } catch (e) {
    if (!isBuildError(e)) throw e;
    return {
      ok: false,
      error: {
        code: e.code,
        message: e.message,
        ...(e.hint === undefined ? {} : { hint: e.hint }),
        ...(e.range === undefined ? {} : { range: e.range }),
      },
    };
  }
}

