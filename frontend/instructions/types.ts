/**
 * Typed Dockerfile instructions: what BuildKit's `instructions` package produces from the
 * syntax tree. Every value is plain, readonly data. Words are kept UNEXPANDED — variable
 * expansion happens later, with the environment in scope, in the stage layer.
 */
import type { ErrorCode, SourceRange } from '../../errors/index.js';

/** Fields every instruction carries. */
interface InstructionBase {
  /** From the keyword to the end of the instruction (heredoc bodies included). */
  readonly range: SourceRange;
  /** The keyword's range, for errors that point at the instruction itself. */
  readonly keywordRange: SourceRange;
  /** The logical source line, trimmed (BuildKit's `String()` of a command). */
  readonly original: string;
}

/** A heredoc body attached to RUN / CMD / ENTRYPOINT (BuildKit's ShellInlineFile). */
export interface InlineFile {
  /** The delimiter word (quotes removed). */
  readonly name: string;
  /** The body exactly as written, line endings kept; NOT chomped even when `chomp`. */
  readonly data: string;
  /** `<<-`: leading tabs are to be stripped from the body's lines (see chompHeredoc). */
  readonly chomp: boolean;
  /** False when the delimiter was quoted: the body must not be expanded. */
  readonly expand: boolean;
}

/** The command part of RUN / CMD / ENTRYPOINT. */
export interface CommandLine {
  /**
   * Exec form: the JSON array. Shell form: a single element, the words joined by one space
   * (BuildKit's handleJSONArgs). Empty when nothing was given (`CMD []`, `ENTRYPOINT []`).
   */
  readonly args: readonly string[];
  /** Shell form: the image's SHELL must be prepended at conversion time. */
  readonly prependShell: boolean;
  /** Heredoc bodies referenced from the command line, in order. */
  readonly files: readonly InlineFile[];
}

export interface FromInstruction extends InstructionBase {
  readonly kind: 'from';
  /** The base image or stage reference, unexpanded. */
  readonly image: string;
  /** `AS name`, lower-cased as BuildKit does; undefined when not named. */
  readonly stageName?: string;
  /** Raw `--platform` value, unexpanded. */
  readonly platform?: string;
}

export type RunNetwork = 'default' | 'none' | 'host';
export type RunSecurity = 'sandbox' | 'insecure';

/** A parsed `RUN --device` value (CDI device request). */
export interface RunDevice {
  readonly name: string;
  readonly required: boolean;
}

export interface RunInstruction extends InstructionBase, CommandLine {
  readonly kind: 'run';
  /**
   * Raw `--mount` values in order, unexpanded. BuildKit expands each with the RUN's env and
   * only then parses it: call parseRunMount(expanded) in the stage layer.
   */
  readonly mounts: readonly string[];
  /** `--network`, validated; 'default' when not given. */
  readonly network: RunNetwork;
  /** `--security`, validated; 'sandbox' when not given. */
  readonly security: RunSecurity;
  /** `--device` values, parsed (BuildKit does not expand them). */
  readonly devices: readonly RunDevice[];
  /** Names of the flags that were used (without `--`), in order of first use. */
  readonly flagsUsed: readonly string[];
}

export interface CmdInstruction extends InstructionBase, CommandLine {
  readonly kind: 'cmd';
}

export interface EntrypointInstruction extends InstructionBase, CommandLine {
  readonly kind: 'entrypoint';
}

export interface ShellInstruction extends InstructionBase {
  readonly kind: 'shell';
  /** The JSON array, never empty. */
  readonly shell: readonly string[];
}

/** One ENV or LABEL pair. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Legacy `KEY value` form (no `=`). */
  readonly noDelim: boolean;
}

export interface EnvInstruction extends InstructionBase {
  readonly kind: 'env';
  readonly env: readonly KeyValue[];
}

export interface LabelInstruction extends InstructionBase {
  readonly kind: 'label';
  readonly labels: readonly KeyValue[];
}

/** One ARG declaration: `NAME` (value undefined) or `NAME=value` (value may be ""). */
export interface ArgDeclaration {
  readonly key: string;
  readonly value?: string;
  /** The text after `NAME ` in a comment line directly above that starts with the name. */
  readonly docComment?: string;
}

export interface ArgInstruction extends InstructionBase {
  readonly kind: 'arg';
  readonly args: readonly ArgDeclaration[];
}

/** A COPY/ADD source given inline as a heredoc. */
export interface HeredocSource {
  /** The delimiter word: the file name the content is written as. */
  readonly path: string;
  /** The body; already chomped when `<<-` was used. */
  readonly data: string;
  /** False when the delimiter was quoted: the body must not be expanded. */
  readonly expand: boolean;
  readonly chomp: boolean;
}

interface SourcesAndDest {
  /** Path / URL sources in order, unexpanded (heredoc sources excluded). */
  readonly sources: readonly string[];
  /** Heredoc sources in order. */
  readonly heredocSources: readonly HeredocSource[];
  /** The destination, unexpanded. */
  readonly dest: string;
}

export interface CopyInstruction extends InstructionBase, SourcesAndDest {
  readonly kind: 'copy';
  /** Raw flag values, unexpanded; undefined when not given. */
  readonly from?: string;
  readonly chown?: string;
  /** Raw `--chmod`; check with parseChmod after expansion. */
  readonly chmod?: string;
  readonly link: boolean;
  readonly parents: boolean;
  readonly exclude: readonly string[];
}

export interface AddInstruction extends InstructionBase, SourcesAndDest {
  readonly kind: 'add';
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly exclude: readonly string[];
  /** Undefined when the flag was not given (BuildKit distinguishes unset from false). */
  readonly keepGitDir?: boolean;
  /** Raw `--checksum`, unexpanded. */
  readonly checksum?: string;
  /** Undefined when the flag was not given. */
  readonly unpack?: boolean;
}

export interface WorkdirInstruction extends InstructionBase {
  readonly kind: 'workdir';
  readonly path: string;
}

export interface UserInstruction extends InstructionBase {
  readonly kind: 'user';
  readonly user: string;
}

export interface ExposeInstruction extends InstructionBase {
  readonly kind: 'expose';
  /** Raw words, sorted as BuildKit sorts them (byte order); parse each with parseExposePort after expansion. */
  readonly ports: readonly string[];
}

export interface VolumeInstruction extends InstructionBase {
  readonly kind: 'volume';
  /** Paths, whitespace-trimmed, never empty, unexpanded. */
  readonly paths: readonly string[];
}

export interface StopSignalInstruction extends InstructionBase {
  readonly kind: 'stopsignal';
  readonly signal: string;
}

export interface MaintainerInstruction extends InstructionBase {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

/**
 * The image config's health check. Durations are in NANOSECONDS (as Go's time.Duration and
 * the OCI/Docker image config store them); exact up to 2^53 ns (~104 days). A zero or absent
 * duration/retries means "not set" (the image config omits it).
 */
export interface Healthcheck {
  /** ['NONE'] | ['CMD', ...argv] | ['CMD-SHELL', command] */
  readonly test: readonly string[];
  readonly interval?: number;
  readonly timeout?: number;
  readonly startPeriod?: number;
  readonly startInterval?: number;
  readonly retries?: number;
}

export interface HealthcheckInstruction extends InstructionBase {
  readonly kind: 'healthcheck';
  readonly health: Healthcheck;
}

/** An error kept as data (the trigger of ONBUILD is only checked when an image uses it). */
export interface DeferredError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint?: string;
  readonly range?: SourceRange;
}

export type OnbuildTrigger =
  | { readonly ok: true; readonly instruction: Instruction }
  | { readonly ok: false; readonly error: DeferredError };

export interface OnbuildInstruction extends InstructionBase {
  readonly kind: 'onbuild';
  /**
   * The trigger as it goes into the image config's OnBuild list: the source after the
   * ONBUILD keyword, with heredoc bodies and terminators appended.
   */
  readonly expression: string;
  /**
   * The trigger parsed now, for convenience. BuildKit does not validate the trigger while
   * parsing the Dockerfile that declares it (only when a later build uses the image), so a
   * bad trigger is kept as data rather than thrown.
   */
  readonly trigger: OnbuildTrigger;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | CopyInstruction
  | AddInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | MaintainerInstruction;

export type InstructionKind = Instruction['kind'];

// ---------------------------------------------------------------------------------------------
// Parsed option strings

export type MountSharing = 'shared' | 'private' | 'locked';

interface MountBase {
  /** `target` / `dst` / `destination`; "" when not given. */
  readonly target: string;
  /** `readonly` / `ro` / `readwrite` / `rw`; default true for bind, secret, ssh; false for cache, tmpfs. */
  readonly readOnly: boolean;
}

export interface BindMount extends MountBase {
  readonly type: 'bind';
  /** `from`: stage name, image or build context; "" = the main build context. */
  readonly from: string;
  /** `source` / `src`; "" = root of `from`. */
  readonly source: string;
}

export interface CacheMount extends MountBase {
  readonly type: 'cache';
  /** `id`; "" means the target path is used as id (a conversion-time default). */
  readonly id: string;
  /** `sharing`; default 'shared'. */
  readonly sharing: MountSharing;
  /** `from`; "" means an empty (scratch) base for the cache, not the build context. */
  readonly from: string;
  /** `source` / `src`: the sub-path of `from` to seed the cache with; "" = its root. */
  readonly source: string;
  /** Octal `mode` as a number; undefined when not given (BuildKit uses 0755). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface TmpfsMount extends MountBase {
  readonly type: 'tmpfs';
  /** `size` in bytes (docker's RAMInBytes: 64m, 1g, …); 0 = unlimited. */
  readonly size: number;
}

export interface SecretMount extends MountBase {
  readonly type: 'secret';
  /** `id`; when "" BuildKit uses the base name of `target` (conversion time). */
  readonly id: string;
  /** `source` / `src` — an alias for id in BuildKit's conversion (source and id are exclusive). */
  readonly source: string;
  /** `env`: also (or only, with no target) expose the secret as this environment variable. */
  readonly env?: string;
  readonly required: boolean;
  /** Secret file mode; BuildKit uses 0400 when uid/gid are given without mode. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface SshMount extends MountBase {
  readonly type: 'ssh';
  /** `id`; "" means "default" (conversion time). */
  readonly id: string;
  /** `target`: socket path; "" = BuildKit's default socket path. */
  readonly required: boolean;
  /** Socket file mode; BuildKit uses 0600 when uid/gid are given without mode. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export type RunMount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;
export type RunMountType = RunMount['type'];

/** One clause of a symbolic mode, e.g. `ug+rx`. */
export interface SymbolicModeClause {
  /** Who: any of u g o a; "" means a (subject to umask in chmod(1); BuildKit applies no umask). */
  readonly who: string;
  /** Operator and permission letters, e.g. [{op:'+', perms:'rx'}, {op:'-', perms:'w'}]. */
  readonly actions: readonly { readonly op: '+' | '-' | '='; readonly perms: string }[];
}

/** A parsed `--chmod` value. */
export type Chmod =
  | { readonly kind: 'octal'; readonly mode: number }
  | { readonly kind: 'symbolic'; readonly text: string; readonly clauses: readonly SymbolicModeClause[] };

/** A parsed EXPOSE word: `80`, `80/udp`, `8000-8010/tcp`. `start === end` for a single port. */
export interface ExposePort {
  readonly start: number;
  readonly end: number;
  /** Lower-cased; 'tcp' when omitted. */
  readonly proto: 'tcp' | 'udp' | 'sctp';
  /** The protocol as written ("" when omitted): BuildKit lints one not in lower case. */
  readonly protoText: string;
  /**
   * `ip:hostPort:port` / `hostPort:port` forms are accepted (and checked) but publish
   * nothing; BuildKit lints them (ExposeInvalidFormat). Present only when written.
   */
  readonly hostIP?: string;
  readonly hostPort?: string;
}
