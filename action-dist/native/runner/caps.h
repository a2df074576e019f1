/* The command's capabilities, applied with raw syscalls (no libcap). Both set-up calls need
 * /proc mounted (they read cap_last_cap) and run before the user switch. */
#ifndef TSBUILD_RUNNER_CAPS_H
#define TSBUILD_RUNNER_CAPS_H

/* The sandbox: Docker's default set. Drops every other capability from the bounding set,
 * clears the ambient and inheritable sets, and sets permitted and effective to the default
 * set (containerd's default spec, which BuildKit uses). A later setuid to a non-root user
 * clears permitted and effective, as with Docker. */
void drop_to_default_caps(void);

/* Whether the default set holds `cap`: what the seccomp profile's conditions are decided on
 * (seccomp_gen.c, at build time). */
int caps_default_includes(int cap);

/* RUN --security=insecure: every capability the runner holds, in the bounding, permitted,
 * effective, inheritable and (after the user switch) ambient sets, as BuildKit's insecure
 * mode gives them, so a non-root USER keeps them too. */
void keep_all_caps(void);

/* Around setgroups/setgid/setuid, in the command's process: after keep_all_caps, they keep
 * the capabilities across the switch and raise the ambient set; in the sandbox they do nothing. */
void caps_before_user_switch(void);
void caps_after_user_switch(void);

#endif
