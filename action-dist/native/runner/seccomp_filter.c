/*
 * Loading the sandbox's seccomp filter: the program seccomp_gen made at build time from
 * Docker's default profile (see seccomp_gen.c), then a small filter answering ENOSYS for calls
 * newer than any of the profile that libseccomp knew.
 */
#define _GNU_SOURCE
#include "seccomp_filter.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>

#include "seccomp_program.h"
#include "util.h"

static void load(const struct sock_filter *code, size_t count) {
  struct sock_fprog prog = {.len = (unsigned short)count, .filter = (struct sock_filter *)code};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) fatal("loading the seccomp filter: %s", strerror(errno));
}

/* A second filter: ENOSYS for every native call numbered above `last`. The kernel runs both
 * and, between two errnos, takes the one of the filter loaded last. x32's calls (numbers with
 * bit 30 set, on x86_64) are left to the profile. */
static void load_enosys_above(uint32_t arch, int last) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 4),              /* another arch: allow */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)last, 0, 2),    /* known: allow */
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 1, 0),       /* x32: allow */
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), /* "allow": the profile's filter decides */
  };
  load(code, sizeof code / sizeof code[0]);
}

void seccomp_load_default(void) {
  load(seccomp_profile_program, sizeof seccomp_profile_program / sizeof seccomp_profile_program[0]);
  load_enosys_above(SECCOMP_NATIVE_ARCH, SECCOMP_LAST_KNOWN_CALL);
}
