/* The sandbox's seccomp filter: Docker's default profile, made at build time (seccomp_gen.c). */
#ifndef TSBUILD_RUNNER_SECCOMP_FILTER_H
#define TSBUILD_RUNNER_SECCOMP_FILTER_H

/* Loads the filter into this process (and so into every process it starts). Needs
 * CAP_SYS_ADMIN: no_new_privs stays unset, so that setuid programs work in the step as they do
 * under Docker. Calls fatal() on failure. */
void seccomp_load_default(void);

#endif
