/*
 * scanDir(path) -> Buffer: one directory's entries with their lstat fields, in one call, for
 * walks of a build context (snapshotter/dir-scan.ts decodes it). The entries ("." and ".."
 * left out) are sorted in byte order of their names and each is lstat'ed with fstatat
 * relative to the open directory, so a walk of 20,000 files costs 200 calls into the addon,
 * not 20,000 lstat calls with a path each and an object of bigints each.
 *
 * scanAheadOpen() -> handle, scanAheadQueue(handle, path), scanAheadTake(handle, path) ->
 * Buffer, scanAheadClose(handle): the same scans made ahead of a walk on libuv's thread pool
 * and taken synchronously (see "Scans ahead" below).
 *
 * The Buffer, native-endian:
 *
 *   f64 count, f64 entries with flags = SCAN_BY_PATH, f64 directories among the others,
 *   f64 names that are not valid UTF-8
 *   count records of SCAN_FIELDS f64:
 *     mode uid gid size mtime_sec mtime_nsec ctime_sec ctime_nsec ino_hi ino_lo rdev_hi
 *     rdev_lo flags
 *   the names, the bytes the kernel gave, joined by '/' (which no name can hold)
 *
 * An entry that vanished between readdir and fstatat (ENOENT, ENOTDIR) is left out, as a walk
 * with lstat by path does. flags = 1 (SCAN_BY_PATH) marks an entry whose fields are not filled
 * in because its full path is too long for one lstat: the caller looks it up by path itself,
 * as it always did. A name that is not valid UTF-8 is lstat'ed like any other (relative to
 * the directory, by its bytes); the count in the header tells the caller to decode the names
 * as bytes. The path argument is a string or a Buffer of its bytes. Errors are thrown shaped
 * like Node's fs errors (code, errno, syscall 'scandir' or 'lstat', path).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addon.h"
#include "scan.h"

#define SCAN_HEAD 4
#define SCAN_FIELDS 13
#define SCAN_BY_PATH 1.0

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

/* One scan: the directory in, the Buffer's bytes or an error out. Touches no JS value. */
typedef struct {
  char *dir;
  size_t dir_len;
  /* Success: out[0..out_len), the Buffer's bytes. */
  char *out;
  size_t out_len;
  /* Failure: errno, the syscall, the path (malloc'd; NULL means dir). */
  int err;
  const char *syscall;
  char *err_path;
} scan_job_t;

static void job_free(scan_job_t *job) {
  free(job->dir);
  free(job->out);
  free(job->err_path);
  free(job);
}

static void scan_run(scan_job_t *job) {
  const char *dir = job->dir;
  size_t dir_len = job->dir_len;
  scan_list_t list = {0};
  struct stat *stats = NULL;
  bool *by_path = NULL;
  DIR *d = opendir(dir);
  if (d == NULL) {
    job->err = errno;
    job->syscall = "scandir";
    goto out;
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0) {
        job->err = errno;
        job->syscall = "scandir";
        goto out;
      }
      break;
    }
    const char *n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    if (!list_add(&list, n, strlen(n))) {
      job->err = ENOMEM;
      job->syscall = "scandir";
      goto out;
    }
  }
  if (list.count > 1) qsort_r(list.names, list.count, sizeof *list.names, by_name, list.arena);

  stats = malloc((list.count == 0 ? 1 : list.count) * sizeof *stats);
  by_path = calloc(list.count == 0 ? 1 : list.count, sizeof *by_path);
  if (stats == NULL || by_path == NULL) {
    job->err = ENOMEM;
    job->syscall = "scandir";
    goto out;
  }
  int dfd = dirfd(d);
  size_t kept = 0, names_len = 0;
  for (size_t i = 0; i < list.count; i++) {
    const scan_name_t *nm = &list.names[i];
    const char *name = list.arena + nm->off;
    bool lookup_by_path = dir_len + 1 + nm->len >= PATH_MAX;
    if (!lookup_by_path && fstatat(dfd, name, &stats[kept], AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) continue; /* removed while walking */
      job->err = err;
      job->syscall = "lstat";
      size_t plen = dir_len + nm->len + 2;
      job->err_path = malloc(plen);
      if (job->err_path != NULL) snprintf(job->err_path, plen, "%s/%s", dir, name);
      goto out;
    }
    by_path[kept] = lookup_by_path;
    list.names[kept] = *nm;
    names_len += nm->len + (kept > 0 ? 1 : 0);
    kept++;
  }

  size_t head = (SCAN_HEAD + kept * SCAN_FIELDS) * sizeof(double);
  job->out_len = head + names_len;
  job->out = malloc(job->out_len == 0 ? 1 : job->out_len);
  if (job->out == NULL) {
    job->err = ENOMEM;
    job->syscall = "scandir";
    goto out;
  }
  double *f = (double *)job->out;
  size_t n_by_path = 0, n_dirs = 0, n_not_utf8 = 0;
  char *names = job->out + head;
  for (size_t i = 0; i < kept; i++) {
    double *rec = f + SCAN_HEAD + i * SCAN_FIELDS;
    if (by_path[i]) {
      for (int k = 0; k < SCAN_FIELDS; k++) rec[k] = 0;
      rec[12] = SCAN_BY_PATH;
      n_by_path++;
    } else {
      if (S_ISDIR(stats[i].st_mode)) n_dirs++;
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
    const char *name = list.arena + list.names[i].off;
    size_t len = list.names[i].len;
    if (!utf8_valid((const unsigned char *)name, len)) n_not_utf8++;
    if (i > 0) *names++ = '/';
    memcpy(names, name, len);
    names += len;
  }
  f[0] = (double)kept;
  f[1] = (double)n_by_path;
  f[2] = (double)n_dirs;
  f[3] = (double)n_not_utf8;

out:
  if (d != NULL) closedir(d);
  free(stats);
  free(by_path);
  list_free(&list);
}

/* The job's outcome as a JS value: its Buffer, or (*failed) its error. NULL: an exception is pending. */
static napi_value job_value(napi_env env, scan_job_t *job, bool *failed) {
  napi_value value = NULL;
  *failed = job->err != 0;
  if (*failed) {
    value = errno_error(env, job->err, job->syscall,
                             job->err_path != NULL ? job->err_path : job->dir);
    if (value == NULL) throw_napi_failure(env);
    return value;
  }
  if (napi_create_buffer_copy(env, job->out_len, job->out, NULL, &value) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  return value;
}

/* A new job for the path `value`, or NULL with an exception pending. */
static scan_job_t *job_for_path(napi_env env, napi_value value) {
  char *dir = NULL;
  if (!get_string(env, value, false, "path", &dir)) return NULL;
  scan_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) {
    free(dir);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  job->dir = dir;
  job->dir_len = strlen(dir);
  return job;
}

/* Returns the finished job's Buffer or throws its error; frees the job. */
static napi_value job_return(napi_env env, scan_job_t *job) {
  bool failed = false;
  napi_value value = job_value(env, job, &failed);
  job_free(job);
  if (value != NULL && failed) {
    napi_throw(env, value);
    return NULL;
  }
  return value;
}

static napi_value js_scan_dir(napi_env env, napi_callback_info info) {
  args_t args;
  if (!get_args(env, info, 1, &args)) return NULL;
  scan_job_t *job = job_for_path(env, args.argv[0]);
  if (job == NULL) return NULL;
  scan_run(job);
  return job_return(env, job);
}

/*
 * Scans ahead: a walk names the directories it will visit (scanAheadQueue), libuv's thread
 * pool scans them, and the walk takes each result synchronously when it gets there
 * (scanAheadTake): at once when done, after a short wait when under way, or scanned on the
 * spot when no thread has started it. No promise and no turn of the event loop stands
 * between a finished scan and the walk.
 *
 * Threads: the JS thread alone queues, takes, closes and runs the completions; a pool
 * thread touches an entry only in ahead_execute, under the mutex but for the scan itself.
 * An entry is freed on the JS thread once it is both taken (or dropped) and its work done.
 */
enum { AHEAD_QUEUED, AHEAD_RUNNING, AHEAD_DONE };

typedef struct ahead ahead_t;

typedef struct ahead_entry {
  struct ahead_entry *next; /* in the owner's list while not taken */
  ahead_t *owner;
  scan_job_t *job;
  napi_async_work work;
  int state;     /* under the mutex */
  bool taken;    /* under the mutex: no longer in the list, the result unwanted or moved out */
  bool finished; /* JS thread only: the work's completion ran */
} ahead_entry_t;

struct ahead {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ahead_entry_t *head, *tail;
  size_t live; /* entries not freed */
  bool closed;
};

static void ahead_maybe_free(ahead_t *a) {
  if (!a->closed || a->live > 0) return;
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->cv);
  free(a);
}

static void entry_free(ahead_entry_t *e) {
  ahead_t *a = e->owner;
  if (e->job != NULL) job_free(e->job);
  free(e);
  a->live--;
  ahead_maybe_free(a);
}

static void ahead_execute(napi_env env, void *data) {
  (void)env;
  ahead_entry_t *e = data;
  ahead_t *a = e->owner;
  pthread_mutex_lock(&a->mu);
  bool wanted = !e->taken;
  if (wanted) e->state = AHEAD_RUNNING;
  pthread_mutex_unlock(&a->mu);
  if (!wanted) return;
  scan_run(e->job);
  pthread_mutex_lock(&a->mu);
  e->state = AHEAD_DONE;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
}

static void ahead_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  ahead_entry_t *e = data;
  napi_delete_async_work(env, e->work);
  e->finished = true;
  /* No other thread touches the entry now: its work is over. */
  if (e->taken) entry_free(e);
}

/* Unlinks `e` from its owner's list; under the mutex. */
static void ahead_unlink(ahead_t *a, ahead_entry_t *e) {
  ahead_entry_t **p = &a->head, *prev = NULL;
  while (*p != NULL && *p != e) {
    prev = *p;
    p = &(*p)->next;
  }
  if (*p == NULL) return;
  *p = e->next;
  if (a->tail == e) a->tail = prev;
  e->next = NULL;
}

static void ahead_finalize(napi_env env, void *data, void *hint);

static bool get_ahead(napi_env env, napi_value value, ahead_t **out) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not a scan-ahead handle");
    return false;
  }
  /* The external holds a pointer to a cell so that close can clear it. */
  ahead_t *a = *(ahead_t **)data;
  if (a == NULL) {
    napi_throw_error(env, "ERR_INVALID_STATE", "scan-ahead handle is closed");
    return false;
  }
  *out = a;
  return true;
}

static napi_value js_scan_ahead_open(napi_env env, napi_callback_info info) {
  (void)info;
  ahead_t **cell = malloc(sizeof *cell);
  ahead_t *a = calloc(1, sizeof *a);
  if (cell == NULL || a == NULL) {
    free(cell);
    free(a);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  *cell = a;
  napi_value handle;
  if (napi_create_external(env, cell, ahead_finalize, NULL, &handle) != napi_ok) {
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
    free(cell);
    throw_napi_failure(env);
    return NULL;
  }
  return handle;
}

/* scanAheadQueue(handle, dir): a thread of the pool scans `dir` for a later take. */
static napi_value js_scan_ahead_queue(napi_env env, napi_callback_info info) {
  args_t args;
  ahead_t *a;
  if (!get_args(env, info, 2, &args) || !get_ahead(env, args.argv[0], &a)) return NULL;
  scan_job_t *job = job_for_path(env, args.argv[1]);
  if (job == NULL) return NULL;
  ahead_entry_t *e = calloc(1, sizeof *e);
  napi_value name;
  if (e == NULL) {
    job_free(job);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  e->owner = a;
  e->job = job;
  e->state = AHEAD_QUEUED;
  if (napi_create_string_utf8(env, "tsbuild:scanAhead", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, ahead_execute, ahead_complete, e, &e->work) != napi_ok) {
    job_free(job);
    free(e);
    throw_napi_failure(env);
    return NULL;
  }
  if (napi_queue_async_work(env, e->work) != napi_ok) {
    napi_delete_async_work(env, e->work);
    job_free(job);
    free(e);
    throw_napi_failure(env);
    return NULL;
  }
  a->live++;
  pthread_mutex_lock(&a->mu);
  if (a->tail != NULL)
    a->tail->next = e;
  else
    a->head = e;
  a->tail = e;
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* scanAheadTake(handle, dir) -> Buffer: as scanDir(dir), from a scan queued before if any. */
static napi_value js_scan_ahead_take(napi_env env, napi_callback_info info) {
  args_t args;
  ahead_t *a;
  if (!get_args(env, info, 2, &args) || !get_ahead(env, args.argv[0], &a)) return NULL;
  scan_job_t *job = job_for_path(env, args.argv[1]);
  if (job == NULL) return NULL;
  pthread_mutex_lock(&a->mu);
  ahead_entry_t *e = a->head;
  while (e != NULL && strcmp(e->job->dir, job->dir) != 0) e = e->next;
  if (e != NULL) {
    ahead_unlink(a, e);
    e->taken = true;
    if (e->state != AHEAD_QUEUED) {
      while (e->state != AHEAD_DONE) pthread_cond_wait(&a->cv, &a->mu);
      /* The scan is this take's: move it out of the entry. */
      job_free(job);
      job = e->job;
      e->job = NULL;
    }
  }
  pthread_mutex_unlock(&a->mu);
  if (e != NULL && e->finished) entry_free(e);
  /* Not scanned ahead (not queued, or no thread got to it yet): scanned here. */
  if (job->out == NULL && job->err == 0) scan_run(job);
  return job_return(env, job);
}

/* Drops what was queued and not taken. Untaken scans still under way finish and are freed. */
static void ahead_close(ahead_t **cell) {
  ahead_t *a = *cell;
  if (a == NULL) return;
  *cell = NULL;
  pthread_mutex_lock(&a->mu);
  ahead_entry_t *e = a->head;
  a->head = a->tail = NULL;
  for (ahead_entry_t *x = e; x != NULL; x = x->next) x->taken = true;
  pthread_mutex_unlock(&a->mu);
  while (e != NULL) {
    ahead_entry_t *next = e->next;
    if (e->finished) entry_free(e);
    e = next;
  }
  a->closed = true; /* from here, the last entry freed frees `a` */
  ahead_maybe_free(a);
}

static napi_value js_scan_ahead_close(napi_env env, napi_callback_info info) {
  args_t args;
  if (!get_args(env, info, 1, &args)) return NULL;
  void *data = NULL;
  if (napi_get_value_external(env, args.argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not a scan-ahead handle");
    return NULL;
  }
  ahead_close(data);
  return NULL;
}

static void ahead_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ahead_close(data);
  free(data);
}

bool tsbuild_scan_register(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"scanDir", NULL, js_scan_dir, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanAheadOpen", NULL, js_scan_ahead_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanAheadQueue", NULL, js_scan_ahead_queue, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanAheadTake", NULL, js_scan_ahead_take, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanAheadClose", NULL, js_scan_ahead_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
