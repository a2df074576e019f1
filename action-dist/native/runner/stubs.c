#define _GNU_SOURCE
#include "stubs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* 'd' created dir, 'f' created file, 't' existing dir whose times are restored. */
struct stub {
  char kind;
  char *path; /* relative to the upper dir, "." for itself */
  unsigned long long ino;
  long long ctime_sec, ctime_nsec;
  unsigned mode, uid, gid;
  struct timespec times[2]; /* 't': atime, mtime before the runner changed the dir */
  int untouched;            /* runner side */
};

static struct stub *stubs;
static size_t stub_count;
static int upper_dir = -1;
static dev_t root_dev;

static struct stub *find(const char *path, char kind) {
  for (size_t i = 0; i < stub_count; i++) {
    if (stubs[i].kind == kind && strcmp(stubs[i].path, path) == 0) return &stubs[i];
  }
  return NULL;
}

static struct stub *add(char kind, const char *path) {
  stubs = xrealloc(stubs, (stub_count + 1) * sizeof *stubs);
  struct stub *s = &stubs[stub_count++];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->path = xstrdup(path);
  return s;
}

static int open_beneath(int dirfd, const char *path) {
  struct open_how how = {
      .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Splits "a/b/c" into a parent fd (opened beneath the upper dir) and "c". */
static int open_parent(int upper, const char *path, const char **name) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    *name = path;
    return open_beneath(upper, ".");
  }
  char *parent = xstrdup(path);
  parent[slash - path] = '\0';
  *name = slash + 1;
  int fd = open_beneath(upper, parent);
  free(parent);
  return fd;
}

void stubs_init(int upper_fd, int root_fd) {
  struct stat st;
  if (fstat(root_fd, &st) < 0) fatal("stat of the root: %s", strerror(errno));
  upper_dir = upper_fd;
  root_dev = st.st_dev;
}

/* The path of a directory of the merged root relative to that root ("" for the root). */
static char *merged_relative(int dir_fd) {
  char link[64], target[4096];
  snprintf(link, sizeof link, "/oldroot/proc/self/fd/%d", dir_fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) fatal("readlink %s: %s", link, strerror(errno));
  target[n] = '\0';
  static const char prefix[] = "/newroot";
  if (strncmp(target, prefix, sizeof prefix - 1) != 0) fatal("unexpected mount point location %s", target);
  const char *rest = target + sizeof prefix - 1;
  while (*rest == '/') rest++;
  return xstrdup(rest);
}

void stubs_before_create(int dir_fd, const char *name, char kind) {
  struct stat st;
  if (fstat(dir_fd, &st) < 0) fatal("stat: %s", strerror(errno));
  if (st.st_dev != root_dev) return; /* on a mount of its own, not in the layer */

  char *dir = merged_relative(dir_fd);
  /* Walk the ancestors: those missing from the upper dir will be copied up by the creation;
   * the deepest one present will see its times change. */
  char *prefix = xstrdup(dir);
  size_t len = strlen(dir);
  char *deepest = xstrdup(".");
  for (size_t i = 0; i <= len; i++) {
    if (i != len && dir[i] != '/') continue;
    if (i == 0) continue;
    prefix[i] = '\0';
    struct stat ust;
    if (fstatat(upper_dir, prefix, &ust, AT_SYMLINK_NOFOLLOW) == 0) {
      free(deepest);
      deepest = xstrdup(prefix);
    } else if (errno == ENOENT) {
      if (find(prefix, 'd') == NULL) add('d', prefix);
    } else {
      fatal("stat %s in the upper dir: %s", prefix, strerror(errno));
    }
    if (i != len) prefix[i] = '/';
  }
  if (find(deepest, 't') == NULL && find(deepest, 'd') == NULL) {
    struct stat ust;
    if (fstatat(upper_dir, deepest, &ust, AT_SYMLINK_NOFOLLOW) == 0) {
      struct stub *t = add('t', deepest);
      t->times[0] = ust.st_atim;
      t->times[1] = ust.st_mtim;
    }
  }

  char *path = dir[0] == '\0' ? xstrdup(name) : xasprintf("%s/%s", dir, name);
  struct stat ust;
  /* Present in the upper dir (a whiteout, say) means not ours to remove later. */
  if (fstatat(upper_dir, path, &ust, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) add(kind, path);
  free(path);
  free(prefix);
  free(deepest);
  free(dir);
}

void stubs_send(int fd) {
  static int sent;
  /* Once: on a setup error too (from the fatal handler), never again in the command's fork. */
  if (sent || upper_dir < 0) return;
  sent = 1;
  for (size_t i = 0; i < stub_count; i++) {
    struct stub *s = &stubs[i];
    struct stat st;
    if (fstatat(upper_dir, s->path, &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* not in the layer */
    int is_dir = S_ISDIR(st.st_mode);
    if ((s->kind == 'f' && !S_ISREG(st.st_mode)) || (s->kind != 'f' && !is_dir)) continue;
    char *line = xasprintf("S%c %llu %lld %lld %u %u %u %lld %ld %lld %ld %s", s->kind,
                           (unsigned long long)st.st_ino, (long long)st.st_ctim.tv_sec,
                           (long long)st.st_ctim.tv_nsec, (unsigned)st.st_mode, (unsigned)st.st_uid,
                           (unsigned)st.st_gid, (long long)s->times[0].tv_sec, s->times[0].tv_nsec,
                           (long long)s->times[1].tv_sec, s->times[1].tv_nsec, s->path);
    if (write_all(fd, line, strlen(line) + 1) < 0) fatal("reporting mount points: %s", strerror(errno));
    free(line);
  }
}

int stubs_receive(const char *record) {
  struct stub s;
  memset(&s, 0, sizeof s);
  long long at_sec, mt_sec;
  int consumed = 0;
  if (sscanf(record, "%c %llu %lld %lld %u %u %u %lld %ld %lld %ld %n", &s.kind, &s.ino, &s.ctime_sec,
             &s.ctime_nsec, &s.mode, &s.uid, &s.gid, &at_sec, &s.times[0].tv_nsec, &mt_sec,
             &s.times[1].tv_nsec, &consumed) != 11 ||
      consumed == 0 || (s.kind != 'd' && s.kind != 'f' && s.kind != 't')) {
    return -1;
  }
  s.times[0].tv_sec = at_sec;
  s.times[1].tv_sec = mt_sec;
  const char *path = record + consumed;
  if (path[0] == '\0' || path[0] == '/' || strstr(path, "..") != NULL) return -1;
  struct stub *slot = add(s.kind, path);
  char *saved = slot->path;
  *slot = s;
  slot->path = saved;
  return 0;
}

static int unchanged(const struct stub *s, const struct stat *st) {
  return st->st_ino == s->ino && st->st_ctim.tv_sec == s->ctime_sec && st->st_ctim.tv_nsec == s->ctime_nsec &&
         st->st_mode == s->mode && st->st_uid == s->uid && st->st_gid == s->gid;
}

void stubs_cleanup(const char *upper) {
  if (stub_count == 0) return;
  int upper_fd = open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (upper_fd < 0) return;
  /* Decide first: removing a child changes its parent's ctime. */
  for (size_t i = 0; i < stub_count; i++) {
    struct stat st;
    const char *name;
    int parent = open_parent(upper_fd, stubs[i].path, &name);
    if (parent < 0) continue;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && unchanged(&stubs[i], &st)) {
      stubs[i].untouched = stubs[i].kind != 'f' || (S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 1);
    }
    close(parent);
  }
  /* Children were recorded after their parents. */
  for (size_t i = stub_count; i-- > 0;) {
    struct stub *s = &stubs[i];
    if (!s->untouched || s->kind == 't') continue;
    const char *name;
    int parent = open_parent(upper_fd, s->path, &name);
    if (parent < 0) continue;
    unlinkat(parent, name, s->kind == 'd' ? AT_REMOVEDIR : 0); /* a non-empty dir stays */
    close(parent);
  }
  for (size_t i = 0; i < stub_count; i++) {
    struct stub *s = &stubs[i];
    if (!s->untouched || s->kind != 't') continue;
    const char *name;
    int parent = open_parent(upper_fd, s->path, &name);
    if (parent < 0) continue;
    utimensat(parent, name, s->times, AT_SYMLINK_NOFOLLOW);
    close(parent);
  }
  close(upper_fd);
}
