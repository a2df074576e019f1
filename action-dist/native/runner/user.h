/* Dockerfile USER resolution against the container's own /etc/passwd and /etc/group. */
#ifndef TSBUILD_RUNNER_USER_H
#define TSBUILD_RUNNER_USER_H

#include <stddef.h>
#include <sys/types.h>

struct exec_user {
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups */
  size_t group_count;
  char *home;    /* the passwd entry's home directory, NULL without an entry */
};

/* `user` as written after USER: "", "name", "uid", "name:group", "uid:gid" (and mixes).
 * Reads the files of the current root, so call it after pivot_root. Fatal on an unknown name. */
void resolve_user(const char *user, struct exec_user *out);

#endif
