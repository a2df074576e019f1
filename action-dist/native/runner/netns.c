#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

int netns_hold(void) {
  /* Dies with the builder that started it, even one killed with SIGKILL; the second getppid()
   * closes the race with a builder that died before the prctl. */
  pid_t builder = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fatal("prctl: %s", strerror(errno));
  if (getppid() != builder) return 1;
  if (chdir("/") < 0) fatal("chdir /: %s", strerror(errno));
  if (unshare(CLONE_NEWNET) < 0) {
    fatal("creating a network namespace: %s%s", strerror(errno), errno == EPERM ? " (the runner needs root)" : "");
  }
  /* The network stack (slirp4netns) configures the interfaces, loopback included. */
  if (write_all(1, "ready\n", 6) < 0) return 1;
  char byte;
  for (;;) {
    ssize_t n = read(0, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0; /* the builder closed its end, or died */
  }
}

void netns_join(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fatal("opening the build's network namespace %s: %s", path, strerror(errno));
  if (setns(fd, CLONE_NEWNET) < 0) fatal("joining the build's network namespace %s: %s", path, strerror(errno));
  close(fd);
}
