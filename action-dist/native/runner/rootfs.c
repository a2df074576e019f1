#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stubs.h"
#include "util.h"

/* Layout of the private tmpfs the runner works from, mounted over the host's /tmp in its own
 * mount namespace and made the root: the host stays reachable at /oldroot until the end. */
#define BASE "/tmp"
#define HOST "/oldroot"
#define NEWROOT "/newroot"
#define EMPTY_LOWER "/empty"

/* The kernel copies at most one page of mount options. */
#define MOUNT_DATA_MAX 4095

enum kind { KIND_DIR, KIND_FILE };

struct fdpath {
  char s[64];
};

/* A path naming what fd refers to: mounting onto it mounts exactly there, whatever symlinks
 * the path to it went through. Resolved through the host's /proc. */
static struct fdpath at_fd(int fd) {
  struct fdpath p;
  snprintf(p.s, sizeof p.s, HOST "/proc/self/fd/%d", fd);
  return p;
}

static int openat2_fd(int dirfd, const char *path, int flags, unsigned long long resolve) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Opens a path of the container: symlinks and ".." resolve as if root_fd were "/". */
static int open_in_root(int root_fd, const char *path, int flags) {
  return openat2_fd(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

static void do_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                     const char *data, const char *what) {
  if (mount(source, target, fstype, flags, data) < 0) fatal("mounting %s: %s", what, strerror(errno));
}

static void write_file(const char *path, const char *content) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, content, strlen(content)) < 0 || close(fd) < 0) {
    fatal("writing %s: %s", path, strerror(errno));
  }
}

/* Makes `path` exist in the container (mkdir -p, then an empty dir or file at the end) and
 * returns an O_PATH fd to it. Everything created is recorded as a stub when `record`. */
static int ensure_path(int root_fd, const char *path, enum kind kind, int record) {
  char *copy = xstrdup(path);
  struct buf prefix = {0};
  buf_append(&prefix, "", 0);
  int dir_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  char *save = NULL;
  char *comp = strtok_r(copy, "/", &save);
  if (comp == NULL) {
    free(copy);
    return dir_fd; /* the root itself */
  }
  while (comp != NULL) {
    char *next = strtok_r(NULL, "/", &save);
    int want_dir = next != NULL || kind == KIND_DIR;
    buf_putc(&prefix, '/');
    buf_puts(&prefix, comp);
    int flags = O_PATH | (want_dir ? O_DIRECTORY : 0);
    int fd = open_in_root(root_fd, prefix.data, flags);
    if (fd < 0 && errno == ENOENT) {
      struct stat st;
      if (fstatat(dir_fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        fatal("cannot create mount point %s: %s is a symlink to a missing target", path, prefix.data);
      }
      if (record) stubs_before_create(dir_fd, comp, want_dir ? 'd' : 'f');
      /* EEXIST: a step running at the same time made it in a directory both mount (a cache
       * mount's); it is there, which is all a mount point needs. The open below checks it. */
      if (want_dir) {
        if (mkdirat(dir_fd, comp, 0755) < 0 && errno != EEXIST) fatal("creating %s: %s", prefix.data, strerror(errno));
      } else {
        int f = openat(dir_fd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST) fatal("creating %s: %s", prefix.data, strerror(errno));
        if (f >= 0) close(f);
      }
      fd = open_in_root(root_fd, prefix.data, flags);
    }
    if (fd < 0) fatal("mount point %s: %s: %s", path, prefix.data, strerror(errno));
    close(dir_fd);
    dir_fd = fd;
    comp = next;
  }
  free(prefix.data);
  free(copy);
  return dir_fd;
}

/* Adds `attrs` (MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV) to the mount at fd and every mount below
 * it. fd must name the mount's root. */
static void restrict_mount(int fd, unsigned long long attrs, const char *what) {
  struct mount_attr attr = {.attr_set = attrs};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return;
  if (errno != ENOSYS) fatal("restricting %s: %s", what, strerror(errno));
  /* Older kernels: remount the top mount, keeping the flags it has. */
  struct statvfs sv;
  if (fstatvfs(fd, &sv) < 0) fatal("statvfs %s: %s", what, strerror(errno));
  unsigned long flags = MS_BIND | MS_REMOUNT;
  if ((sv.f_flag & ST_RDONLY) || (attrs & MOUNT_ATTR_RDONLY)) flags |= MS_RDONLY;
  if ((sv.f_flag & ST_NODEV) || (attrs & MOUNT_ATTR_NODEV)) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  do_mount(NULL, at_fd(fd).s, NULL, flags, NULL, what);
}

static void make_readonly(int fd, const char *what) { restrict_mount(fd, MOUNT_ATTR_RDONLY, what); }

/*
 * Devices: in the sandbox, every filesystem the step can write to is mounted nodev (the root
 * overlay, /dev, and every RUN --mount), so a node it makes with mknod (CAP_MKNOD is kept, as
 * Docker keeps it) is created, and lands in the layer, but cannot be opened: what Docker's
 * device cgroup gives. Chosen over a device cgroup because it costs no cgroup per step, works
 * alike on cgroup v1 and v2 (no BPF program), inside a container whose cgroups are not
 * delegated, and without root; the step cannot undo it (no CAP_SYS_ADMIN, and seccomp denies
 * mount and user namespaces). /dev's own nodes are bind mounts of the host's, which keep
 * their own flags. Insecure steps mount nothing nodev: BuildKit allows them every device.
 */
static unsigned long nodev_unless(int insecure) { return insecure ? 0 : MS_NODEV; }

static int overlay_path_ok(const char *p, int is_lower) {
  return strchr(p, ',') == NULL && strchr(p, '\\') == NULL && (!is_lower || strchr(p, ':') == NULL);
}

/* The longest directory prefix common to every path ("/" at least), without a trailing slash. */
static char *common_parent(const char *const *paths, size_t count) {
  char *common = xstrdup(paths[0]);
  char *slash = strrchr(common, '/');
  *slash = '\0';
  for (size_t i = 1; i < count; i++) {
    size_t n = strlen(common);
    while (n > 0 && !(strncmp(paths[i], common, n) == 0 && paths[i][n] == '/')) {
      char *s = strrchr(common, '/');
      *s = '\0';
      n = strlen(common);
    }
  }
  return common;
}

/* The lowerdir value: each lower as `prefix` + its path with `strip` bytes cut. */
static void lowerdir_option(struct buf *b, const char *const *lowers, size_t lower_count, const char *prefix,
                            size_t strip) {
  buf_puts(b, "lowerdir=");
  for (size_t i = 0; i < lower_count; i++) {
    if (i > 0) buf_putc(b, ':');
    if (strcmp(lowers[i], EMPTY_LOWER) == 0) {
      buf_puts(b, EMPTY_LOWER); /* in the runner's own tmpfs, never relative */
      continue;
    }
    buf_puts(b, prefix);
    buf_puts(b, lowers[i] + strip);
  }
}

/*
 * `volatile` (Linux 5.10): without it, the unmount when the step ends syncs the whole file
 * system the upper dir is on, every dirty page of it, the builder's and anyone's (~60 ms after
 * a 64 MB layer was unpacked). Snapshot contents were never synced otherwise (unpacked layers
 * are not), a killed process loses nothing in the page cache, and an active snapshot left by a
 * crash is thrown away. Kernels without it refuse the option: the mount is retried without.
 */
#define VOLATILE_OPTION ",volatile"
static int overlay_volatile = 1;

/* The rest of the options: upper and work as absolute paths. */
static void overlay_tail(struct buf *b, const struct overlay_spec *ov) {
  buf_puts(b, ",upperdir=" HOST);
  buf_puts(b, ov->upper);
  buf_puts(b, ",workdir=" HOST);
  buf_puts(b, ov->work);
  /* Keep the upper dir a plain, faithful diff of the layer. */
  buf_puts(b, ",redirect_dir=off,index=off,metacopy=off");
  if (overlay_volatile) buf_puts(b, VOLATILE_OPTION);
}

/* A volatile mount leaves its mark in the work dir, and overlayfs refuses to mount that work
 * dir again while it is there: an earlier mount of this snapshot's is no crash, so it goes. */
static void clear_volatile_mark(const char *work) {
  char *dirty = xasprintf(HOST "%s/work/incompat/volatile/dirty", work);
  char *mark = xasprintf(HOST "%s/work/incompat/volatile", work);
  unlink(dirty);
  rmdir(mark);
  free(dirty);
  free(mark);
}

static void mount_overlay(const char *target, const struct overlay_spec *ov, unsigned long flags, const char *what) {
  const char *empty[] = {EMPTY_LOWER};
  const char *const *lowers = ov->lower_count > 0 ? ov->lowers : empty;
  size_t lower_count = ov->lower_count > 0 ? ov->lower_count : 1;
  for (size_t i = 0; i < ov->lower_count; i++) {
    if (!overlay_path_ok(ov->lowers[i], 1)) fatal("%s: lower dir %s holds ',', ':' or '\\'", what, ov->lowers[i]);
  }
  if (!overlay_path_ok(ov->upper, 0) || !overlay_path_ok(ov->work, 0)) {
    fatal("%s: upper or work dir holds ',' or '\\'", what);
  }
  struct buf data = {0};
  lowerdir_option(&data, lowers, lower_count, HOST, 0);
  overlay_tail(&data, ov);
  int *fds = NULL;
  if (data.len > MOUNT_DATA_MAX && ov->lower_count > 0) {
    /* Too long as absolute paths: name the lowers relative to their common parent. */
    char *common = common_parent(ov->lowers, ov->lower_count);
    char *dir = xasprintf(HOST "%s", common);
    if (chdir(dir) < 0) fatal("%s: chdir %s: %s", what, common, strerror(errno));
    data.len = 0;
    lowerdir_option(&data, lowers, lower_count, "", strlen(common) + 1);
    overlay_tail(&data, ov);
    free(dir);
    free(common);
  }
  if (data.len > MOUNT_DATA_MAX && ov->lower_count > 0) {
    /* Still too long: name each lower by an open fd, relative to /proc/self/fd. */
    fds = xmalloc(ov->lower_count * sizeof *fds);
    data.len = 0;
    buf_puts(&data, "lowerdir=");
    for (size_t i = 0; i < ov->lower_count; i++) {
      char *path = xasprintf(HOST "%s", ov->lowers[i]);
      fds[i] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fds[i] < 0) fatal("%s: lower dir %s: %s", what, ov->lowers[i], strerror(errno));
      free(path);
      char num[16];
      snprintf(num, sizeof num, i > 0 ? ":%d" : "%d", fds[i]);
      buf_puts(&data, num);
    }
    overlay_tail(&data, ov);
    if (chdir(HOST "/proc/self/fd") < 0) fatal("%s: chdir /proc/self/fd: %s", what, strerror(errno));
    if (data.len > MOUNT_DATA_MAX) {
      fatal("%s: %zu lower dirs need %zu bytes of mount options; the kernel takes %d", what, ov->lower_count,
            data.len, MOUNT_DATA_MAX);
    }
  }
  clear_volatile_mark(ov->work);
  if (mount("overlay", target, "overlay", flags, data.data) < 0) {
    size_t tail = strlen(VOLATILE_OPTION);
    if (errno != EINVAL || !overlay_volatile || data.len < tail) fatal("mounting %s: %s", what, strerror(errno));
    overlay_volatile = 0; /* options end with it (overlay_tail) */
    data.len -= tail;
    data.data[data.len] = '\0';
    do_mount("overlay", target, "overlay", flags, data.data, what);
  }
  if (chdir("/") < 0) fatal("chdir /: %s", strerror(errno));
  if (fds != NULL) {
    for (size_t i = 0; i < ov->lower_count; i++) close(fds[i]);
    free(fds);
  }
  free(data.data);
}

/* Docker's masked and read-only paths. */
static const char *const masked_paths[] = {
    "/proc/acpi",      "/proc/asound",     "/proc/kcore", "/proc/keys",    "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    "/sys/devices/virtual/powercap", NULL,
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static int open_kernel_path(int root_fd, const char *path) {
  /* Inside our own proc and sysfs mounts: no symlink is expected on the way. */
  int fd = openat2_fd(root_fd, path, O_PATH | O_NOFOLLOW, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
  if (fd < 0 && errno != ENOENT) fatal("opening %s: %s", path, strerror(errno));
  return fd;
}

static void mask_paths(int root_fd) {
  for (const char *const *p = masked_paths; *p != NULL; p++) {
    int fd = open_kernel_path(root_fd, *p);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) < 0) fatal("stat %s: %s", *p, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      do_mount("tmpfs", at_fd(fd).s, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, *p);
    } else {
      do_mount(HOST "/dev/null", at_fd(fd).s, NULL, MS_BIND, NULL, *p);
    }
    close(fd);
  }
  for (const char *const *p = readonly_paths; *p != NULL; p++) {
    int fd = open_kernel_path(root_fd, *p);
    if (fd < 0) continue;
    struct fdpath at = at_fd(fd);
    do_mount(at.s, at.s, NULL, MS_BIND | MS_REC, NULL, *p);
    close(fd);
    fd = open_kernel_path(root_fd, *p); /* now the bind mount's root */
    make_readonly(fd, *p);
    close(fd);
  }
}

/* Insecure mode (as BuildKit's): nothing masked, /proc/sys and /sys writable. */
static void mount_proc_and_sys(int root_fd, int insecure) {
  int fd = ensure_path(root_fd, "/proc", KIND_DIR, 1);
  do_mount("proc", at_fd(fd).s, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/proc");
  close(fd);
  fd = ensure_path(root_fd, "/sys", KIND_DIR, 1);
  do_mount("sysfs", at_fd(fd).s, "sysfs", (insecure ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/sys");
  close(fd);
  if (!insecure) mask_paths(root_fd);
}

/* The number of the first free loop device (0 when the host cannot say), through the host's
 * /dev/loop-control. */
static int free_loop_number(void) {
  int fd = open(HOST "/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (fd < 0) return 0;
  int n = ioctl(fd, LOOP_CTL_GET_FREE);
  close(fd);
  return n < 0 ? 0 : n;
}

static void make_device(int dev, const char *name, mode_t type, unsigned major, unsigned minor) {
  if (mknodat(dev, name, type | 0666, makedev(major, minor)) < 0) fatal("creating /dev/%s: %s", name, strerror(errno));
}

/* The devices BuildKit's insecure mode adds: kmsg, fuse, cuse, kvm, tun, loop-control and the
 * loop devices up to 7 past the first free one. Made as nodes, as runc makes them. */
static void make_insecure_devices(int dev) {
  make_device(dev, "kmsg", S_IFCHR, 1, 11);
  make_device(dev, "cuse", S_IFCHR, 10, 203);
  make_device(dev, "fuse", S_IFCHR, 10, 229);
  make_device(dev, "kvm", S_IFCHR, 10, 232);
  if (mkdirat(dev, "net", 0755) < 0) fatal("creating /dev/net: %s", strerror(errno));
  make_device(dev, "net/tun", S_IFCHR, 10, 200);
  make_device(dev, "loop-control", S_IFCHR, 10, 237);
  int last = free_loop_number() + 7;
  for (int i = 0; i <= last; i++) {
    char name[32];
    snprintf(name, sizeof name, "loop%d", i);
    make_device(dev, name, S_IFBLK, 7, (unsigned)i);
  }
}

static void mount_dev(int root_fd, int insecure) {
  int stub = ensure_path(root_fd, "/dev", KIND_DIR, 1);
  do_mount("tmpfs", at_fd(stub).s, "tmpfs", MS_NOSUID | MS_STRICTATIME | nodev_unless(insecure), "mode=755,size=65536k",
           "/dev");
  close(stub);
  int dev = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0) fatal("opening /dev: %s", strerror(errno));

  static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};
  for (const char *const *n = nodes; *n != NULL; n++) {
    int f = openat(dev, *n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0) fatal("creating /dev/%s: %s", *n, strerror(errno));
    close(f);
    f = openat(dev, *n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char *source = xasprintf(HOST "/dev/%s", *n);
    char *what = xasprintf("/dev/%s", *n);
    do_mount(source, at_fd(f).s, NULL, MS_BIND, NULL, what);
    free(source);
    free(what);
    close(f);
  }

  if (mkdirat(dev, "pts", 0755) < 0) fatal("creating /dev/pts: %s", strerror(errno));
  int pts = openat(dev, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  do_mount("devpts", at_fd(pts).s, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5",
           "/dev/pts");
  close(pts);

  if (mkdirat(dev, "shm", 01777) < 0) fatal("creating /dev/shm: %s", strerror(errno));
  int shm = openat(dev, "shm", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  do_mount("shm", at_fd(shm).s, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", "/dev/shm");
  close(shm);

  static const char *const links[][2] = {
      {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},          {"stdin", "/proc/self/fd/0"},
      {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},    {"core", "/proc/kcore"},
  };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    if (symlinkat(links[i][1], dev, links[i][0]) < 0) fatal("creating /dev/%s: %s", links[i][0], strerror(errno));
  }
  if (insecure) make_insecure_devices(dev);
  close(dev);
}

/* /etc/hosts, /etc/resolv.conf, /etc/hostname: files in the private tmpfs, bound in place. */
static void mount_etc_files(int root_fd) {
  static const char *const files[][2] = {
      {"/hosts", "/etc/hosts"}, {"/resolv.conf", "/etc/resolv.conf"}, {"/hostname", "/etc/hostname"}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    int fd = ensure_path(root_fd, files[i][1], KIND_FILE, 1);
    do_mount(files[i][0], at_fd(fd).s, NULL, MS_BIND, NULL, files[i][1]);
    close(fd);
  }
}

static void mount_user(int root_fd, const struct mount_spec *m, int insecure) {
  char *what = xasprintf("%s mount on %s", m->type == MOUNT_BIND ? "bind" : m->type == MOUNT_TMPFS ? "tmpfs" : "overlay",
                         m->target);
  switch (m->type) {
    case MOUNT_BIND: {
      char *source = xasprintf(HOST "%s", m->source);
      struct stat st;
      if (stat(source, &st) < 0) fatal("%s: source %s: %s", what, m->source, strerror(errno));
      int fd = ensure_path(root_fd, m->target, S_ISDIR(st.st_mode) ? KIND_DIR : KIND_FILE, 1);
      do_mount(source, at_fd(fd).s, NULL, MS_BIND | MS_REC, NULL, what);
      close(fd);
      unsigned long long attrs = (m->readonly ? MOUNT_ATTR_RDONLY : 0) | (insecure ? 0 : MOUNT_ATTR_NODEV);
      if (attrs != 0) {
        fd = open_in_root(root_fd, m->target, O_PATH);
        if (fd < 0) fatal("%s: reopening: %s", what, strerror(errno));
        restrict_mount(fd, attrs, what);
        close(fd);
      }
      free(source);
      break;
    }
    case MOUNT_TMPFS: {
      int fd = ensure_path(root_fd, m->target, KIND_DIR, 1);
      char *data = m->size > 0 ? xasprintf("mode=1777,size=%llu", m->size) : xstrdup("mode=1777");
      do_mount("tmpfs", at_fd(fd).s, "tmpfs", MS_NOSUID | MS_NODEV, data, what);
      free(data);
      close(fd);
      break;
    }
    case MOUNT_OVERLAY: {
      int fd = ensure_path(root_fd, m->target, KIND_DIR, 1);
      mount_overlay(at_fd(fd).s, &m->overlay, nodev_unless(insecure), what);
      close(fd);
      break;
    }
  }
  free(what);
}

/* The private tmpfs becomes the root; the host moves to /oldroot. */
static void enter_private_base(const struct spec *spec) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fatal("making mounts private: %s", strerror(errno));
  do_mount("tsbuild-runner", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m", "the runner's tmpfs");
  if (mkdir(BASE NEWROOT, 0755) < 0 || mkdir(BASE HOST, 0755) < 0 || mkdir(BASE EMPTY_LOWER, 0755) < 0) {
    fatal("preparing the runner's tmpfs: %s", strerror(errno));
  }
  if (syscall(SYS_pivot_root, BASE, BASE HOST) < 0) fatal("pivot_root to the runner's tmpfs: %s", strerror(errno));
  if (chdir("/") < 0) fatal("chdir /: %s", strerror(errno));
  write_file("/hosts", spec->hosts);
  write_file("/resolv.conf", spec->resolv_conf);
  char *hostname = xasprintf("%s\n", spec->hostname);
  write_file("/hostname", hostname);
  free(hostname);
}

/* The container's root becomes "/"; the private tmpfs and the host under it are detached. */
static void enter_container_root(int root_fd) {
  if (fchdir(root_fd) < 0) fatal("entering the root: %s", strerror(errno));
  /* Both at ".": the old root ends up stacked on the new one, then detached. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) fatal("pivot_root to the container: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) fatal("detaching the host: %s", strerror(errno));
  if (chdir("/") < 0) fatal("chdir /: %s", strerror(errno));
}

void setup_rootfs(const struct spec *spec, int report_fd) {
  enter_private_base(spec);

  char *upper_path = xasprintf(HOST "%s", spec->rootfs.upper);
  int upper_fd = open(upper_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (upper_fd < 0) fatal("upper dir %s: %s", spec->rootfs.upper, strerror(errno));
  free(upper_path);

  mount_overlay(NEWROOT, &spec->rootfs, nodev_unless(spec->insecure), "the root overlay");
  int root_fd = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) fatal("opening the root: %s", strerror(errno));
  stubs_init(upper_fd, root_fd);

  mount_proc_and_sys(root_fd, spec->insecure);
  mount_dev(root_fd, spec->insecure);
  mount_etc_files(root_fd);
  for (size_t i = 0; i < spec->mount_count; i++) mount_user(root_fd, &spec->mounts[i], spec->insecure);
  /* The working directory is content, not a mount point: it stays in the layer, as with runc. */
  close(ensure_path(root_fd, spec->cwd, KIND_DIR, 0));

  stubs_send(report_fd);
  close(upper_fd);
  enter_container_root(root_fd);
  close(root_fd);
}
