/* close_range (Linux 5.9; CLOSE_RANGE_CLOEXEC since 5.11), else one descriptor at a time over
 * the list in /proc/self/fd, else over every number below the descriptor limit. */
#define _GNU_SOURCE
#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void one(int fd, int cloexec) {
  if (cloexec) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  } else {
    close(fd);
  }
}

/* 0 when /proc/self/fd could be listed. Numbers are gathered first: closing while reading the
 * directory would close the directory's own descriptor. */
static int each_listed(unsigned first, int cloexec) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return -1;
  int self = dirfd(dir);
  int *fds = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end != '\0' || e->d_name[0] == '\0' || fd < (long)first || fd == self) continue;
    if (n == cap) {
      cap = cap == 0 ? 64 : cap * 2;
      int *grown = realloc(fds, cap * sizeof *fds);
      if (grown == NULL) {
        free(fds);
        closedir(dir);
        return -1;
      }
      fds = grown;
    }
    fds[n++] = (int)fd;
  }
  closedir(dir);
  for (size_t i = 0; i < n; i++) one(fds[i], cloexec);
  free(fds);
  return 0;
}

static void each(unsigned first, int cloexec) {
  if (syscall(SYS_close_range, first, ~0U, cloexec ? CLOSE_RANGE_CLOEXEC : 0) == 0) return;
  if (each_listed(first, cloexec) == 0) return;
  struct rlimit rl;
  long limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
  for (long fd = first; fd < limit; fd++) one((int)fd, cloexec);
}

void fds_close_from(unsigned first) { each(first, 0); }

void fds_cloexec_from(unsigned first) { each(first, 1); }
