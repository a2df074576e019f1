/* The sandbox's seccomp filter: Docker's default profile (seccomp_table.c). */
#ifndef TSBUILD_RUNNER_SECCOMP_H
#define TSBUILD_RUNNER_SECCOMP_H

/* Loads the filter into this process (and so into every process it starts). The profile's
 * conditions on capabilities are decided by `holds`, as Docker decides them by the container's
 * bounding set. Needs CAP_SYS_ADMIN: no_new_privs stays unset, so that setuid programs work in
 * the step as they do under Docker. Calls fatal() on failure. */
void seccomp_load_default(int (*holds)(int cap));

#endif
