/**
 * What crosses from TypeScript to the native runner (native/runner/): one RUN, as JSON on the
 * runner's stdin. The runner refuses unknown keys and any other `version`; a change to this
 * shape bumps RUNNER_SPEC_VERSION here and in native/runner/spec.h together.
 */

/** Must equal RUNNER_SPEC_VERSION in native/runner/spec.h. */
export const RUNNER_SPEC_VERSION = 3;

/** An overlay filesystem; `lowers[0]` is the topmost lower layer (overlayfs' lowerdir order). */
export interface OverlaySpec {
  readonly lowers: readonly string[];
  readonly upper: string;
  readonly work: string;
}

/** A RUN --mount, placed at `target` (absolute, inside the container), in spec order. */
export type MountSpec =
  | { readonly type: 'bind'; readonly target: string; readonly source: string; readonly readonly: boolean }
  | { readonly type: 'tmpfs'; readonly target: string; /** bytes; 0 = the kernel's default */ readonly size: number }
  | ({ readonly type: 'overlay'; readonly target: string } & OverlaySpec);

/**
 * 'none': a new network namespace with only loopback. 'host': the runner's own (the host's).
 * `join`: an existing network namespace, named by a file such as /proc/PID/ns/net (the
 * build's isolated network, executor/network.ts), joined before the other namespaces are made.
 */
export type NetworkMode = 'none' | 'host' | { readonly join: string };

/**
 * 'sandbox': Docker's default capabilities, masked and read-only kernel paths. 'insecure'
 * (RUN --security=insecure, as BuildKit's): every capability the builder holds, also for a
 * non-root user (ambient), nothing masked, /proc/sys and /sys writable, and the devices
 * kmsg, fuse, cuse, kvm, net/tun, loop-control and loop0… made in /dev.
 */
export type SecurityMode = 'sandbox' | 'insecure';

export interface RunnerSpec {
  readonly version: typeof RUNNER_SPEC_VERSION;
  /** argv; args[0] without a slash is looked up in the PATH of `env`. */
  readonly args: readonly string[];
  /** NAME=VALUE, exactly the command's environment. */
  readonly env: readonly string[];
  /** Absolute; created (mkdir -p, owned by root) when missing. */
  readonly cwd: string;
  /** As written after USER: '', 'name', 'uid', 'name:group', 'uid:gid'. */
  readonly user: string;
  readonly hostname: string;
  readonly network: NetworkMode;
  /** Contents of /etc/hosts and /etc/resolv.conf; /etc/hostname is made from `hostname`. */
  readonly hosts: string;
  readonly resolvConf: string;
  readonly security: SecurityMode;
  /** The root: an overlay whose upper dir receives the command's writes (the layer's diff). */
  readonly rootfs: OverlaySpec;
  readonly mounts: readonly MountSpec[];
}

/** What the runner writes on fd 3: the command's exit status or why it could not run. */
export type RunnerOutcome = { readonly exit: number } | { readonly error: string };
