#define _GNU_SOURCE
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static const int default_caps[] = {
    CAP_CHOWN,  CAP_DAC_OVERRIDE,     CAP_FSETID,     CAP_FOWNER, CAP_MKNOD,
    CAP_NET_RAW, CAP_SETGID,          CAP_SETUID,     CAP_SETFCAP, CAP_SETPCAP,
    CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

static int is_default(int cap) {
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++) {
    if (default_caps[i] == cap) return 1;
  }
  return 0;
}

static int last_cap(void) {
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  int last = -1;
  if (f != NULL) {
    if (fscanf(f, "%d", &last) != 1) last = -1;
    fclose(f);
  }
  if (last < 0) fatal("reading /proc/sys/kernel/cap_last_cap: %s", strerror(errno));
  return last;
}

void drop_to_default_caps(void) {
  int last = last_cap();
  for (int cap = 0; cap <= last; cap++) {
    if (!is_default(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      fatal("dropping capability %d from the bounding set: %s", cap, strerror(errno));
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    fatal("clearing ambient capabilities: %s", strerror(errno));
  }
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++) {
    int cap = default_caps[i];
    uint32_t bit = (uint32_t)1 << (cap % 32);
    data[cap / 32].effective |= bit;
    data[cap / 32].permitted |= bit;
    data[cap / 32].inheritable |= bit;
  }
  if (syscall(SYS_capset, &header, data) < 0) fatal("setting capabilities: %s", strerror(errno));
}
