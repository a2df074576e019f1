/* The container's filesystem: overlay root, /proc, /sys, /dev, /etc files and RUN mounts. */
#ifndef TSBUILD_RUNNER_ROOTFS_H
#define TSBUILD_RUNNER_ROOTFS_H

#include "spec.h"

/* In a fresh mount namespace: builds the whole tree under a private tmpfs and leaves the
 * process with its root and working directory at the container's root (pivot_root done, the
 * host detached). The working directory is created when missing. Mount points created in the
 * root overlay are recorded (stubs.h) and sent to report_fd before the host is detached. */
void setup_rootfs(const struct spec *spec, int report_fd);

#endif
