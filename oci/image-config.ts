/**
 * The image config (image-spec config.md; the same JSON as Docker's
 * application/vnd.docker.container.image.v1+json): the part a Dockerfile reads and writes, and
 * the history entries beside it. The frontend fills it, the exporter writes it, builds read it.
 */

/** The container config of an image (OCI image config names, Docker's extra fields). */
export interface ImageConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, Record<string, never>>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  /** Set by CMD, as BuildKit does (a Docker field kept for compatibility). */
  readonly ArgsEscaped?: boolean;
  readonly OnBuild?: readonly string[] | null;
  readonly Shell?: readonly string[];
  readonly Healthcheck?: DockerHealthcheck;
}

/** The Docker image config's health check (durations in nanoseconds). */
export interface DockerHealthcheck {
  readonly Test: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** One entry of an image's history. */
export interface HistoryEntry {
  /** RFC 3339 as found in a base image, or a Date for steps of this build. */
  readonly created?: string | Date;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  /** True for steps that made no layer (ENV, CMD…). */
  readonly empty_layer?: boolean;
}
