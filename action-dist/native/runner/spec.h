/* The runner's input: the JSON spec read from stdin, checked and turned into C values.
 * Its TypeScript twin is executor/spec.ts; RUNNER_SPEC_VERSION must match RUNNER_SPEC_VERSION
 * there, and changes to the shape bump both. */
#ifndef TSBUILD_RUNNER_SPEC_H
#define TSBUILD_RUNNER_SPEC_H

#include <stddef.h>

#define RUNNER_SPEC_VERSION 3

/* An overlay filesystem: lowers[0] is the topmost lower layer, as in overlayfs' lowerdir. */
struct overlay_spec {
  const char **lowers;
  size_t lower_count;
  const char *upper;
  const char *work;
};

enum mount_type { MOUNT_BIND, MOUNT_TMPFS, MOUNT_OVERLAY };

struct mount_spec {
  enum mount_type type;
  const char *target;           /* absolute, inside the container */
  const char *source;           /* bind: absolute host path */
  int readonly;                 /* bind */
  unsigned long long size;      /* tmpfs: bytes; 0 = the kernel's default */
  struct overlay_spec overlay;  /* overlay */
};

struct spec {
  const char **args; /* NULL-terminated */
  const char **env;  /* NULL-terminated */
  const char *cwd;
  const char *user;
  const char *hostname;
  const char *hosts;
  const char *resolv_conf;
  int network_none;
  const char *netns; /* network {"join": path}: the network namespace to run in; NULL = the runner's own */
  int insecure; /* RUN --security=insecure: all capabilities, no masked paths, extra devices */
  struct overlay_spec rootfs;
  struct mount_spec *mounts;
  size_t mount_count;
};

/* Parses and checks the spec; calls fatal() with a clear message on anything unexpected. */
void spec_parse(const char *text, size_t len, struct spec *out);

#endif
