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

/* A capability set as the two 32-bit words capget/capset use. */
struct capset {
  uint32_t words[2];
};

static int has(const struct capset *set, int cap) {
  return (set->words[cap / 32] >> (cap % 32)) & 1;
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

static struct capset effective_now(void) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) < 0) fatal("reading capabilities: %s", strerror(errno));
  return (struct capset){{data[0].effective, data[1].effective}};
}

/* Permitted and effective to `set`; inheritable too when `inheritable`. */
static void set_caps(const struct capset *set, int inheritable) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    data[i].effective = set->words[i];
    data[i].permitted = set->words[i];
    data[i].inheritable = inheritable ? set->words[i] : 0;
  }
  if (syscall(SYS_capset, &header, data) < 0) fatal("setting capabilities: %s", strerror(errno));
}

static void limit_bounding_set(const struct capset *keep, int last) {
  for (int cap = 0; cap <= last; cap++) {
    if (!has(keep, cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      fatal("dropping capability %d from the bounding set: %s", cap, strerror(errno));
    }
  }
}

int caps_default_includes(int cap) {
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++) {
    if (default_caps[i] == cap) return 1;
  }
  return 0;
}

static struct capset wanted;
static int wanted_last;
static int all_caps;

void drop_to_default_caps(void) {
  memset(&wanted, 0, sizeof wanted);
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++) {
    wanted.words[default_caps[i] / 32] |= (uint32_t)1 << (default_caps[i] % 32);
  }
  wanted_last = last_cap();
  all_caps = 0;
  limit_bounding_set(&wanted, wanted_last);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    fatal("clearing ambient capabilities: %s", strerror(errno));
  }
  set_caps(&wanted, 0);
}

void keep_all_caps(void) {
  wanted = effective_now();
  wanted_last = last_cap();
  all_caps = 1;
  limit_bounding_set(&wanted, wanted_last);
  set_caps(&wanted, 1);
}

void caps_before_user_switch(void) {
  /* Permitted stays across a setuid to a non-root user; caps_after_user_switch restores the rest. */
  if (all_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fatal("keeping capabilities: %s", strerror(errno));
}

void caps_after_user_switch(void) {
  if (!all_caps) return;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fatal("clearing keep-capabilities: %s", strerror(errno));
  set_caps(&wanted, 1);
  /* Ambient capabilities survive the exec of a file without file capabilities, whatever the uid. */
  for (int cap = 0; cap <= wanted_last; cap++) {
    if (has(&wanted, cap) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
      fatal("raising ambient capability %d: %s", cap, strerror(errno));
    }
  }
}
