/*
 * Docker's default seccomp profile as a filter, built with libseccomp from the table in
 * seccomp_table.c: every call no rule allows fails with the profile's default errno (EPERM),
 * those it names with another errno (clone3: ENOSYS) fail with that.
 *
 * Calls newer than every call this libseccomp knows by name fail with ENOSYS rather than EPERM:
 * the profile may allow them (it names calls this libseccomp cannot resolve), and a C library
 * tries a new call first and falls back to an older one only on ENOSYS (glibc's fchmodat2).
 * runc does the same for calls newer than its profile.
 */
#define _GNU_SOURCE
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include "seccomp_table.h"
#include "util.h"

/* The profile names architectures as Docker does (Go's names, mostly). */
static const char *profile_arch_name(uint32_t arch) {
  static const struct {
    uint32_t arch;
    const char *name;
  } names[] = {
      {SCMP_ARCH_X86_64, "amd64"},   {SCMP_ARCH_X86, "x86"},         {SCMP_ARCH_X32, "x32"},
      {SCMP_ARCH_AARCH64, "arm64"},  {SCMP_ARCH_ARM, "arm"},         {SCMP_ARCH_PPC64LE, "ppc64le"},
      {SCMP_ARCH_PPC64, "ppc64"},    {SCMP_ARCH_PPC, "ppc"},         {SCMP_ARCH_S390X, "s390x"},
      {SCMP_ARCH_S390, "s390"},      {SCMP_ARCH_MIPS64, "mips64"},   {SCMP_ARCH_MIPS64N32, "mips64n32"},
      {SCMP_ARCH_MIPSEL64, "mipsel64"}, {SCMP_ARCH_MIPSEL64N32, "mips3l64n32"}, {SCMP_ARCH_MIPSEL, "mipsel"},
      {SCMP_ARCH_RISCV64, "riscv64"},
#ifdef SCMP_ARCH_LOONGARCH64
      {SCMP_ARCH_LOONGARCH64, "loongarch64"},
#endif
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (names[i].arch == arch) return names[i].name;
  }
  return "";
}

static int listed(const char *const *list, const char *name) {
  for (; *list != NULL; list++) {
    if (strcmp(*list, name) == 0) return 1;
  }
  return 0;
}

/* The running kernel as major * 1000 + minor. */
static int kernel_version(void) {
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) < 1) fatal("reading the kernel's version: %s", strerror(errno));
  return major * 1000 + minor;
}

static int version_at_least(const char *wanted) {
  int major = 0, minor = 0;
  if (sscanf(wanted, "%d.%d", &major, &minor) < 1) fatal("seccomp profile: bad kernel version %s", wanted);
  return kernel_version() >= major * 1000 + minor;
}

/* Whether a rule applies here, as Docker decides it. */
static int applies(const struct seccomp_rule *r, const char *arch, int (*holds)(int cap)) {
  if (r->not_arches != NULL && listed(r->not_arches, arch)) return 0;
  if (r->not_caps != NULL) {
    for (const int *c = r->not_caps; *c >= 0; c++) {
      if (holds(*c)) return 0;
    }
  }
  if (r->arches != NULL && !listed(r->arches, arch)) return 0;
  if (r->caps != NULL) {
    for (const int *c = r->caps; *c >= 0; c++) {
      if (!holds(*c)) return 0;
    }
  }
  return r->min_kernel == NULL || version_at_least(r->min_kernel);
}

static void check(int rc, const char *what) {
  if (rc < 0) fatal("seccomp: %s: %s", what, strerror(-rc));
}

static void add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r) {
  uint32_t action = r->errno_ret < 0 ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO((uint32_t)r->errno_ret);
  struct scmp_arg_cmp cmps[6];
  if (r->arg_count > sizeof cmps / sizeof cmps[0]) fatal("seccomp profile: a rule compares %zu arguments", r->arg_count);
  for (size_t i = 0; i < r->arg_count; i++) {
    cmps[i] = (struct scmp_arg_cmp){r->args[i].index, r->args[i].op, r->args[i].value, r->args[i].value_two};
  }
  for (const char *const *name = r->names; *name != NULL; name++) {
    /* Native number, or libseccomp's own number for a call only another architecture has. */
    int nr = seccomp_syscall_resolve_name(*name);
    if (nr == __NR_SCMP_ERROR) continue; /* unknown to this libseccomp: left to the default */
    int rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->arg_count, cmps);
    if (rc < 0) fatal("seccomp: the rule for %s: %s", *name, strerror(-rc));
  }
}

/* The highest number of a call of the profile this libseccomp knows on `arch`. */
static int last_known_call(uint32_t arch) {
  int last = -1;
  for (size_t i = 0; i < seccomp_rule_count; i++) {
    for (const char *const *name = seccomp_rules[i].names; *name != NULL; name++) {
      int nr = seccomp_syscall_resolve_name_arch(arch, *name);
      if (nr > last) last = nr;
    }
  }
  return last;
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
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) fatal("seccomp: loading the filter: %s", strerror(errno));
}

void seccomp_load_default(int (*holds)(int cap)) {
  uint32_t native = seccomp_arch_native();
  const struct seccomp_arch_group *group = seccomp_arch_groups;
  while (group->arch != 0 && group->arch != native) group++;
  if (group->arch == 0) fatal("seccomp: Docker's profile has no rules for this architecture");

  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO((uint32_t)seccomp_default_errno));
  if (ctx == NULL) fatal("seccomp: cannot start a filter");
  check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "keeping no_new_privs unset");
  /* A binary tree of calls rather than a list: fewer instructions run on every call. */
  check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimizing");
  for (const uint32_t *sub = group->sub; *sub != 0; sub++) {
    int rc = seccomp_arch_add(ctx, *sub);
    if (rc != -EEXIST) check(rc, "adding an architecture");
  }
  const char *arch = profile_arch_name(native);
  for (size_t i = 0; i < seccomp_rule_count; i++) {
    if (applies(&seccomp_rules[i], arch, holds)) add_rule(ctx, &seccomp_rules[i]);
  }
  check(seccomp_load(ctx), "loading the filter");
  seccomp_release(ctx);
  load_enosys_above(native, last_known_call(native));
}
