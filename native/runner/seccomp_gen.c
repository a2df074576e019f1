/*
 * seccomp_gen OUT.h: the sandbox's seccomp filter, compiled once at build time (binding.gyp runs
 * it) into a classic BPF program the runner loads as it is. Building the filter with libseccomp
 * takes ~15 ms (most of it for the 32-bit and x32 architectures beside x86_64); loading a ready
 * program takes microseconds, on every RUN.
 *
 * The filter is Docker's default seccomp profile (the table in seccomp_table.c), decided for
 * this architecture and the sandbox's capabilities (caps.c's default set, as Docker decides it
 * on the container's bounding set): every call no rule allows fails with the profile's default
 * errno (EPERM), those it names with another errno (clone3: ENOSYS) fail with that.
 *
 * Calls numbered above every call of the profile this libseccomp knows fail with ENOSYS rather
 * than EPERM (the runner loads a second, small filter for it): the profile may allow them (it
 * names calls this libseccomp cannot resolve), and a C library tries a new call first and falls
 * back to an older one only on ENOSYS (glibc's fchmodat2). runc does the same for calls newer
 * than its profile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "caps.h"
#include "seccomp_table.h"
#include "util.h"

/* openat2 (RESOLVE_IN_ROOT) is the newest call the runner cannot do without. */
#define RUNNER_MIN_KERNEL 5006

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

/* The program is made once, at build time, for every kernel the runner runs on: a rule that
 * needs a newer kernel than the runner's oldest could not be decided here. */
static int version_at_least(const char *wanted) {
  int major = 0, minor = 0;
  if (sscanf(wanted, "%d.%d", &major, &minor) < 1) fatal("seccomp profile: bad kernel version %s", wanted);
  if (major * 1000 + minor > RUNNER_MIN_KERNEL) {
    fatal("seccomp profile: a rule needs kernel %s, newer than the runner's oldest (%d.%d)", wanted,
          RUNNER_MIN_KERNEL / 1000, RUNNER_MIN_KERNEL % 1000);
  }
  return 1;
}

/* Whether a rule applies here, as Docker decides it. */
static int applies(const struct seccomp_rule *r, const char *arch) {
  if (r->not_arches != NULL && listed(r->not_arches, arch)) return 0;
  if (r->not_caps != NULL) {
    for (const int *c = r->not_caps; *c >= 0; c++) {
      if (caps_default_includes(*c)) return 0;
    }
  }
  if (r->arches != NULL && !listed(r->arches, arch)) return 0;
  if (r->caps != NULL) {
    for (const int *c = r->caps; *c >= 0; c++) {
      if (!caps_default_includes(*c)) return 0;
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

static void fail_and_exit(const char *message) {
  fprintf(stderr, "seccomp_gen: %s\n", message);
  exit(1);
}

int main(int argc, char **argv) {
  set_fatal_handler(fail_and_exit);
  if (argc != 2) fatal("usage: seccomp_gen OUT.h");
  uint32_t native = seccomp_arch_native();
  const struct seccomp_arch_group *group = seccomp_arch_groups;
  while (group->arch != 0 && group->arch != native) group++;
  if (group->arch == 0) fatal("Docker's profile has no rules for this architecture");

  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO((uint32_t)seccomp_default_errno));
  if (ctx == NULL) fatal("cannot start a filter");
  /* A binary tree of calls rather than a list: fewer instructions run on every call. */
  check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimizing");
  for (const uint32_t *sub = group->sub; *sub != 0; sub++) {
    int rc = seccomp_arch_add(ctx, *sub);
    if (rc != -EEXIST) check(rc, "adding an architecture");
  }
  const char *arch = profile_arch_name(native);
  for (size_t i = 0; i < seccomp_rule_count; i++) {
    if (applies(&seccomp_rules[i], arch)) add_rule(ctx, &seccomp_rules[i]);
  }

  int mem = memfd_create("seccomp-program", MFD_CLOEXEC);
  if (mem < 0) fatal("memfd_create: %s", strerror(errno));
  check(seccomp_export_bpf(ctx, mem), "exporting the program");
  seccomp_release(ctx);
  off_t size = lseek(mem, 0, SEEK_END);
  if (size <= 0 || size % sizeof(struct sock_filter) != 0) fatal("the exported program has %lld bytes", (long long)size);
  struct sock_filter *code = xmalloc((size_t)size);
  if (pread(mem, code, (size_t)size, 0) != size) fatal("reading the exported program: %s", strerror(errno));
  size_t count = (size_t)size / sizeof *code;
  if (count > BPF_MAXINSNS) fatal("the program has %zu instructions; the kernel takes %d", count, BPF_MAXINSNS);

  const struct scmp_version *v = seccomp_version();
  struct buf b = {0};
  char *head = xasprintf(
      "/* Generated at build time by seccomp_gen (native/runner/seccomp_gen.c) with libseccomp %u.%u.%u:\n"
      " * Docker's default seccomp profile for this architecture and the sandbox's capabilities. */\n"
      "#define SECCOMP_NATIVE_ARCH 0x%08xu\n"
      "#define SECCOMP_LAST_KNOWN_CALL %d\n"
      "static const struct sock_filter seccomp_profile_program[%zu] = {\n",
      v->major, v->minor, v->micro, native, last_known_call(native), count);
  buf_puts(&b, head);
  for (size_t i = 0; i < count; i++) {
    char line[80];
    snprintf(line, sizeof line, "    {0x%04x, %u, %u, 0x%08xu},\n", code[i].code, code[i].jt, code[i].jf, code[i].k);
    buf_puts(&b, line);
  }
  buf_puts(&b, "};\n");

  char *tmp = xasprintf("%s.tmp", argv[1]);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, b.data, b.len) < 0 || close(fd) < 0 || rename(tmp, argv[1]) < 0) {
    fatal("writing %s: %s", argv[1], strerror(errno));
  }
  return 0;
}
