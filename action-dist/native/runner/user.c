#define _GNU_SOURCE
#include "user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_ID 2147483647L
#define MAX_FILE (16 << 20)

/* The whole file as a string, or NULL when it does not exist. Only regular files are read, so
 * an image cannot make the runner block on a FIFO. */
static char *read_small_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NULL;
    fatal("opening %s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) fatal("%s is not a regular file", path);
  if (st.st_size > MAX_FILE) fatal("%s is too large", path);
  struct buf b = {0};
  buf_append(&b, "", 0);
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fatal("reading %s: %s", path, strerror(errno));
    if (n == 0) break;
    buf_append(&b, chunk, (size_t)n);
    if (b.len > MAX_FILE) fatal("%s is too large", path);
  }
  close(fd);
  return b.data;
}

/* A decimal id in range, or -1. */
static long parse_id(const char *s) {
  if (*s == '\0') return -1;
  long v = 0;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > MAX_ID) return -1;
  }
  return v;
}

/* Splits a line in place on ':' into at most max fields; returns the count. */
static size_t split_fields(char *line, char **fields, size_t max) {
  size_t n = 0;
  fields[n++] = line;
  for (char *p = line; *p != '\0' && n < max; p++) {
    if (*p == ':') {
      *p = '\0';
      fields[n++] = p + 1;
    }
  }
  return n;
}

/* Calls visit for every well-formed line of the file (a copy of `text`); stops when it returns 1. */
typedef int (*line_visitor)(char **fields, size_t count, void *ctx);
static void each_line(const char *text, size_t min_fields, size_t max_fields, line_visitor visit, void *ctx) {
  if (text == NULL) return;
  char *copy = xstrdup(text);
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    while (*line == ' ' || *line == '\t') line++;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r')) line[--len] = '\0';
    if (len == 0) continue;
    char *fields[8];
    size_t n = split_fields(line, fields, max_fields);
    if (n < min_fields) continue;
    if (visit(fields, n, ctx)) break;
  }
  free(copy);
}

struct passwd_query {
  const char *name; /* match by name, or */
  long uid;         /* by uid when name is NULL */
  int found;
  char *matched_name;
  long found_uid;
  long found_gid;
  char *home;
};

static int visit_passwd(char **f, size_t n, void *ctx) {
  (void)n;
  struct passwd_query *q = ctx;
  long uid = parse_id(f[2]);
  long gid = parse_id(f[3]);
  if (uid < 0 || gid < 0) return 0;
  if (q->name != NULL ? strcmp(f[0], q->name) != 0 : uid != q->uid) return 0;
  q->found = 1;
  q->matched_name = xstrdup(f[0]);
  q->found_uid = uid;
  q->found_gid = gid;
  q->home = xstrdup(f[5]);
  return 1; /* the first match wins */
}

struct group_query {
  const char *name;        /* explicit group by name, or */
  long gid;                /* by gid (>= 0), or */
  const char *member;      /* every group listing this user */
  long first_gid;          /* explicit: the first match */
  gid_t *gids;             /* member: all matches */
  size_t count;
};

static int visit_group(char **f, size_t n, void *ctx) {
  struct group_query *q = ctx;
  long gid = parse_id(f[2]);
  if (gid < 0) return 0;
  if (q->member != NULL) {
    if (n < 4) return 0;
    char *members = xstrdup(f[3]);
    char *save = NULL;
    for (char *m = strtok_r(members, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save)) {
      while (*m == ' ') m++;
      if (strcmp(m, q->member) == 0) {
        q->gids = xrealloc(q->gids, (q->count + 1) * sizeof *q->gids);
        q->gids[q->count++] = (gid_t)gid;
        break;
      }
    }
    free(members);
    return 0;
  }
  if (q->name != NULL ? strcmp(f[0], q->name) != 0 : gid != q->gid) return 0;
  q->first_gid = gid;
  return 1;
}

/* A uint32 id or "root" (0), as BuildKit's uid:gid fast path reads each half; -1 otherwise. */
static long long parse_fast_id(const char *s) {
  if (strcmp(s, "root") == 0) return 0;
  if (*s == '\0') return -1;
  long long v = 0;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > 4294967295LL) return -1;
  }
  return v;
}

/* The primary group leads the group list unless it is already in it: BuildKit's executor puts
 * it there, so `id` shows it among the groups. */
static void include_primary_group(struct exec_user *out) {
  for (size_t i = 0; i < out->group_count; i++) {
    if (out->groups[i] == out->gid) return;
  }
  gid_t *groups = xmalloc((out->group_count + 1) * sizeof *groups);
  groups[0] = out->gid;
  if (out->group_count > 0) memcpy(groups + 1, out->groups, out->group_count * sizeof *groups);
  free(out->groups);
  out->groups = groups;
  out->group_count++;
}

/* HOME for a user given as uid:gid: the first passwd entry with that uid, if any. */
static char *home_of_uid(const char *passwd, uid_t uid) {
  struct passwd_query pq = {.name = NULL, .uid = (long)uid};
  each_line(passwd, 7, 7, visit_passwd, &pq);
  free(pq.matched_name);
  return pq.found ? pq.home : NULL;
}

void resolve_user(const char *spec, struct exec_user *out) {
  /* No USER is uid 0, looked up like any other so root's supplementary groups apply. */
  char *user_arg = xstrdup(spec[0] == '\0' ? "0" : spec);
  char *group_arg = strchr(user_arg, ':');
  if (group_arg != NULL) *group_arg++ = '\0';

  char *passwd = read_small_file("/etc/passwd");
  char *group = read_small_file("/etc/group");

  out->uid = 0;
  out->gid = 0;
  out->groups = NULL;
  out->group_count = 0;
  out->home = NULL;

  /* uid:gid with both numeric (or "root"): taken as is, with no supplementary groups. */
  if (group_arg != NULL) {
    long long uid_fast = parse_fast_id(user_arg), gid_fast = parse_fast_id(group_arg);
    if (uid_fast >= 0 && gid_fast >= 0) {
      out->uid = (uid_t)uid_fast;
      out->gid = (gid_t)gid_fast;
      out->home = home_of_uid(passwd, out->uid);
      include_primary_group(out);
      return;
    }
  } else {
    group_arg = "";
  }
  /* ":group" alone means uid 0, as in the Go user package BuildKit uses. */
  long uid_arg = user_arg[0] == '\0' ? 0 : parse_id(user_arg);
  long gid_arg = parse_id(group_arg);

  struct passwd_query pq = {.name = uid_arg >= 0 ? NULL : user_arg, .uid = uid_arg};
  each_line(passwd, 7, 7, visit_passwd, &pq);
  if (pq.found) {
    out->uid = (uid_t)pq.found_uid;
    out->gid = (gid_t)pq.found_gid;
    out->home = pq.home;
  } else if (uid_arg >= 0) {
    out->uid = (uid_t)uid_arg; /* a numeric uid needs no passwd entry */
  } else {
    fatal("unable to find user %s: no matching entries in passwd file", user_arg);
  }

  if (group_arg[0] != '\0') {
    struct group_query gq = {.name = gid_arg >= 0 ? NULL : group_arg, .gid = gid_arg, .first_gid = -1};
    each_line(group, 3, 4, visit_group, &gq);
    if (gq.first_gid >= 0) out->gid = (gid_t)gq.first_gid;
    else if (gid_arg >= 0) out->gid = (gid_t)gid_arg;
    else fatal("unable to find group %s: no matching entries in group file", group_arg);
  } else if (pq.found) {
    /* Supplementary groups only in the implicit form, from the groups that list the user. */
    struct group_query gq = {.member = pq.matched_name, .gid = -1, .first_gid = -1};
    each_line(group, 4, 4, visit_group, &gq);
    out->groups = gq.gids;
    out->group_count = gq.count;
  }
  include_primary_group(out);
}
