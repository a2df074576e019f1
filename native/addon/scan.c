/*
 * scanDir(path) -> Buffer: one directory's entries with their lstat fields, in one call, for
 * walks of a build context (solver/ops/context/scan.ts decodes it). The entries ("." and ".."
 * left out) are sorted in byte order of their names and each is lstat'ed with fstatat
 * relative to the open directory, so a walk of 20,000 files costs 200 calls into the addon,
 * not 20,000 lstat calls with a path each and an object of bigints each.
 *
 * The Buffer, native-endian:
 *
 *   f64 count
 *   count records of SCAN_FIELDS f64:
 *     mode uid gid size mtime_sec mtime_nsec ctime_sec ctime_nsec ino_hi ino_lo rdev_hi
 *     rdev_lo flags
 *   the names, UTF-8 as the kernel gave them, joined by '/' (which no name can hold)
 *
 * An entry that vanished between readdir and fstatat (ENOENT, ENOTDIR) is left out, as a walk
 * with lstat by path does. flags = 1 (SCAN_BY_PATH) marks an entry whose fields are not filled
 * in because a lookup by path would not find the same file: its name is not valid UTF-8 (a JS
 * string of it is lossy) or its full path is too long for one lstat. The caller looks those
 * up by path itself, as it always did. Errors are thrown shaped like Node's fs errors
 * (code, errno, syscall 'scandir' or 'lstat', path).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"

#define SCAN_FIELDS 13
#define SCAN_BY_PATH 1.0

/* Node's shape of a system error: err.code, err.errno (negative), err.syscall, err.path. */
static void scan_throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  if (code == NULL) code = "EUNKNOWN";
  size_t size = strlen(code) + strlen(strerror(err)) + strlen(syscall) + strlen(path) + 16;
  char *message = malloc(size);
  if (message == NULL) {
    napi_throw_error(env, code, strerror(err));
    return;
  }
  snprintf(message, size, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  napi_value msg, error, v;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok) {
    napi_throw_error(env, code, message);
    free(message);
    return;
  }
  free(message);
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "code", v);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "syscall", v);
  if (napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "path", v);
  if (napi_create_int32(env, -err, &v) == napi_ok) napi_set_named_property(env, error, "errno", v);
  napi_throw(env, error);
}

static void scan_throw_napi(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ENATIVE",
                   info != NULL && info->error_message != NULL ? info->error_message
                                                               : "N-API call failed");
}

/* Is s[0..n) well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF)? */
static bool utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the first continuation byte */
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (n - i - 1 < need) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k <= need; k++)
      if ((s[i + k] & 0xc0) != 0x80) return false;
    i += need + 1;
  }
  return true;
}

typedef struct {
  size_t off; /* into the name arena */
  size_t len;
} scan_name_t;

static int by_name(const void *a, const void *b, void *arena) {
  const char *names = arena;
  return strcmp(names + ((const scan_name_t *)a)->off, names + ((const scan_name_t *)b)->off);
}

typedef struct {
  char *arena;
  size_t arena_len, arena_cap;
  scan_name_t *names;
  size_t count, cap;
} scan_list_t;

static void list_free(scan_list_t *l) {
  free(l->arena);
  free(l->names);
}

/* Appends a name (with its NUL); false when out of memory. */
static bool list_add(scan_list_t *l, const char *name, size_t len) {
  if (l->count == l->cap) {
    size_t cap = l->cap == 0 ? 64 : l->cap * 2;
    scan_name_t *names = realloc(l->names, cap * sizeof *names);
    if (names == NULL) return false;
    l->names = names;
    l->cap = cap;
  }
  if (l->arena_len + len + 1 > l->arena_cap) {
    size_t cap = l->arena_cap == 0 ? 4096 : l->arena_cap;
    while (l->arena_len + len + 1 > cap) cap *= 2;
    char *arena = realloc(l->arena, cap);
    if (arena == NULL) return false;
    l->arena = arena;
    l->arena_cap = cap;
  }
  memcpy(l->arena + l->arena_len, name, len + 1);
  l->names[l->count].off = l->arena_len;
  l->names[l->count].len = len;
  l->arena_len += len + 1;
  l->count++;
  return true;
}

static void put_u64(double *rec, int at, uint64_t v) {
  rec[at] = (double)(uint32_t)(v >> 32);
  rec[at + 1] = (double)(uint32_t)v;
}

static napi_value js_scan_dir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    scan_throw_napi(env);
    return NULL;
  }
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "path must be a string");
    return NULL;
  }
  size_t dir_len = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &dir_len) != napi_ok) {
    scan_throw_napi(env);
    return NULL;
  }
  char *dir = malloc(dir_len + 1);
  if (dir == NULL) {
    scan_throw_errno(env, ENOMEM, "malloc", "");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, argv[0], dir, dir_len + 1, &dir_len) != napi_ok) {
    free(dir);
    scan_throw_napi(env);
    return NULL;
  }
  if (strlen(dir) != dir_len) {
    free(dir);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "path must not contain NUL bytes");
    return NULL;
  }

  napi_value result = NULL;
  scan_list_t list = {0};
  struct stat *stats = NULL;
  bool *by_path = NULL;
  DIR *d = opendir(dir);
  if (d == NULL) {
    scan_throw_errno(env, errno, "scandir", dir);
    goto out;
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0) {
        scan_throw_errno(env, errno, "scandir", dir);
        goto out;
      }
      break;
    }
    const char *n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    if (!list_add(&list, n, strlen(n))) {
      scan_throw_errno(env, ENOMEM, "malloc", dir);
      goto out;
    }
  }
  if (list.count > 1) qsort_r(list.names, list.count, sizeof *list.names, by_name, list.arena);

  stats = malloc((list.count == 0 ? 1 : list.count) * sizeof *stats);
  by_path = calloc(list.count == 0 ? 1 : list.count, sizeof *by_path);
  if (stats == NULL || by_path == NULL) {
    scan_throw_errno(env, ENOMEM, "malloc", dir);
    goto out;
  }
  int dfd = dirfd(d);
  size_t kept = 0, names_len = 0;
  for (size_t i = 0; i < list.count; i++) {
    const scan_name_t *nm = &list.names[i];
    const char *name = list.arena + nm->off;
    bool lookup_by_path = dir_len + 1 + nm->len >= PATH_MAX ||
                          !utf8_valid((const unsigned char *)name, nm->len);
    if (!lookup_by_path && fstatat(dfd, name, &stats[kept], AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) continue; /* removed while walking */
      size_t plen = dir_len + nm->len + 2;
      char *p = malloc(plen);
      if (p != NULL) snprintf(p, plen, "%s/%s", dir, name);
      scan_throw_errno(env, err, "lstat", p != NULL ? p : dir);
      free(p);
      goto out;
    }
    by_path[kept] = lookup_by_path;
    list.names[kept] = *nm;
    names_len += nm->len + (kept > 0 ? 1 : 0);
    kept++;
  }

  size_t head = (1 + kept * SCAN_FIELDS) * sizeof(double);
  void *data = NULL;
  if (napi_create_buffer(env, head + names_len, &data, &result) != napi_ok) {
    result = NULL;
    scan_throw_napi(env);
    goto out;
  }
  double *f = data;
  f[0] = (double)kept;
  char *names = (char *)data + head;
  for (size_t i = 0; i < kept; i++) {
    double *rec = f + 1 + i * SCAN_FIELDS;
    if (by_path[i]) {
      for (int k = 0; k < SCAN_FIELDS; k++) rec[k] = 0;
      rec[12] = SCAN_BY_PATH;
    } else {
      const struct stat *st = &stats[i];
      rec[0] = (double)st->st_mode;
      rec[1] = (double)st->st_uid;
      rec[2] = (double)st->st_gid;
      rec[3] = (double)st->st_size;
      rec[4] = (double)st->st_mtim.tv_sec;
      rec[5] = (double)st->st_mtim.tv_nsec;
      rec[6] = (double)st->st_ctim.tv_sec;
      rec[7] = (double)st->st_ctim.tv_nsec;
      put_u64(rec, 8, (uint64_t)st->st_ino);
      put_u64(rec, 10, (uint64_t)st->st_rdev);
      rec[12] = 0;
    }
    if (i > 0) *names++ = '/';
    memcpy(names, list.arena + list.names[i].off, list.names[i].len);
    names += list.names[i].len;
  }

out:
  if (d != NULL) closedir(d);
  free(stats);
  free(by_path);
  list_free(&list);
  free(dir);
  return result;
}

bool tsbuild_scan_register(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"scanDir", NULL, js_scan_dir, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
