/* Docker's default capability set, applied with raw syscalls (no libcap). */
#ifndef TSBUILD_RUNNER_CAPS_H
#define TSBUILD_RUNNER_CAPS_H

/* Drops every capability outside Docker's default set from the bounding set, clears the
 * ambient set, and sets permitted, effective and inheritable to the default set. Needs
 * /proc mounted (reads cap_last_cap). A later setuid to a non-root user clears permitted
 * and effective, as with Docker; bounding and inheritable stay. */
void drop_to_default_caps(void);

#endif
