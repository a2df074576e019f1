/*
 * tsbuild_native: the few Linux syscalls Node lacks, as synchronous N-API functions (and, in
 * ingest.c, the content store's hashing writes, off the main thread).
 *
 *   mount(source, target, fstype, flags, data, cwd?)   source/fstype/data may be null; with
 *                                                cwd, relative paths in data resolve there
 *   umount2(target, flags)
 *   lgetxattr(path, name) -> Buffer | null        null when the attribute is absent
 *   lsetxattr(path, name, value: Buffer, flags)
 *   llistxattr(path) -> string[]
 *   lremovexattr(path, name)
 *   mknod(path, mode, dev)                        dev in the kernel's encoding (as fs.Stats.rdev)
 *   renameExchange(a, b)                          renameat2(RENAME_EXCHANGE): a and b trade places
 *                                                in one atomic step (both must exist)
 *   tryLockExclusive(fd) -> boolean               flock(fd, LOCK_EX | LOCK_NB): false when another
 *                                                open file holds the lock
 *   sha256Writer, writeAndHash, digestHex          see ingest.c (asynchronous)
 *   spawn(file, input: Buffer, outputs) -> { pid, fds }
 *                                                starts `file` with vfork semantics (posix_spawn):
 *                                                fd 0 reads `input`, fds 1..outputs are new pipes
 *                                                whose read ends come back in `fds`
 *   waitpid(pid) -> Promise<{ code, signal }>     reaps `pid`: at once when it has ended, else
 *                                                off the main thread
 *
 * A path (or xattr name) argument is a string, or a Buffer of its bytes when they are not
 * UTF-8, as Node's fs takes it. Failures throw an Error shaped like Node's own fs errors: err.code is the errno name
 * ('ENOENT'), err.errno the negative errno, err.syscall and err.path are set.
 * The l* xattr calls never follow a final symlink.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "scan.h"


/* Returns NULL from the calling function when an N-API call fails (an exception is pending). */
#define CHECK(call)                                                                            \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      throw_napi_failure(env);                                                                 \
      return NULL;                                                                             \
    }                                                                                          \
  } while (0)

void throw_napi_failure(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ENATIVE",
                   info != NULL && info->error_message != NULL ? info->error_message
                                                               : "N-API call failed");
}

static void set_string_prop(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, obj, key, v);
}

/* An Error `CODE: description, syscall 'path'` with code/errno/syscall/path properties;
 * NULL when even that could not be made. The message is as long as the path, however long. */
napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  if (code == NULL) code = "EUNKNOWN";
  size_t size = strlen(code) + strlen(strerror(err)) + strlen(syscall) + (path != NULL ? strlen(path) : 0) + 16;
  char *message = malloc(size);
  if (message == NULL) return NULL;
  if (path != NULL)
    snprintf(message, size, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  else
    snprintf(message, size, "%s: %s, %s", code, strerror(err), syscall);

  napi_value msg, error, errno_value;
  bool ok = napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) == napi_ok &&
            napi_create_error(env, NULL, msg, &error) == napi_ok;
  free(message);
  if (!ok) return NULL;
  set_string_prop(env, error, "code", code);
  set_string_prop(env, error, "syscall", syscall);
  if (path != NULL) set_string_prop(env, error, "path", path);
  if (napi_create_int32(env, -err, &errno_value) == napi_ok)
    napi_set_named_property(env, error, "errno", errno_value);
  return error;
}

/* Throws errno_error(...). */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = errno_error(env, err, syscall, path);
  if (error == NULL) {
    const char *code = strerrorname_np(err);
    napi_throw_error(env, code != NULL ? code : "EUNKNOWN", strerror(err));
    return NULL;
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

bool get_args(napi_env env, napi_callback_info info, size_t want, args_t *args) {
  args->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &args->argc, args->argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (args->argc < want) {
    throw_type(env, "missing arguments");
    return false;
  }
  return true;
}

/* A Buffer argument's bytes as a malloc'd NUL-terminated copy in *out; false with an exception pending. */
static bool get_buffer_string(napi_env env, napi_value value, const char *what, char **out) {
  void *data = NULL;
  size_t length = 0;
  if (napi_get_buffer_info(env, value, &data, &length) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (memchr(data, 0, length) != NULL) {
    char message[128];
    snprintf(message, sizeof message, "%s must not contain NUL bytes", what);
    throw_type(env, message);
    return false;
  }
  char *buffer = malloc(length + 1);
  if (buffer == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    return false;
  }
  if (length > 0) memcpy(buffer, data, length);
  buffer[length] = '\0';
  *out = buffer;
  return true;
}

/*
 * Copies a JS string argument, or a Buffer's bytes (a path that is not UTF-8, as Node's fs
 * takes it), into a malloc'd NUL-terminated buffer. With `nullable`, null and undefined give
 * *out = NULL. Values containing NUL are refused: the kernel would silently truncate them,
 * which for paths is a safety problem.
 */
bool get_string(napi_env env, napi_value value, bool nullable, const char *what, char **out) {
  napi_valuetype type;
  *out = NULL;
  if (napi_typeof(env, value, &type) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (nullable && (type == napi_null || type == napi_undefined)) return true;
  if (type == napi_object) {
    bool is_buffer = false;
    if (napi_is_buffer(env, value, &is_buffer) != napi_ok) {
      throw_napi_failure(env);
      return false;
    }
    if (is_buffer) return get_buffer_string(env, value, what, out);
  }
  if (type != napi_string) {
    char message[128];
    snprintf(message, sizeof message, "%s must be a string or a Buffer", what);
    throw_type(env, message);
    return false;
  }
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  char *buffer = malloc(length + 1);
  if (buffer == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    return false;
  }
  if (napi_get_value_string_utf8(env, value, buffer, length + 1, &length) != napi_ok) {
    free(buffer);
    throw_napi_failure(env);
    return false;
  }
  if (strlen(buffer) != length) {
    free(buffer);
    char message[128];
    snprintf(message, sizeof message, "%s must not contain NUL bytes", what);
    throw_type(env, message);
    return false;
  }
  *out = buffer;
  return true;
}

static bool get_int64(napi_env env, napi_value value, const char *what, int64_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (type != napi_number) {
    char message[128];
    snprintf(message, sizeof message, "%s must be a number", what);
    throw_type(env, message);
    return false;
  }
  if (napi_get_value_int64(env, value, out) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  return true;
}

static napi_value undefined_value(napi_env env) {
  napi_value v;
  CHECK(napi_get_undefined(env, &v));
  return v;
}

/* What a forked mount child reports back through shared memory. */
typedef struct {
  int failed_syscall; /* 0 none, 1 chdir, 2 mount */
  int err;
} child_report_t;

/*
 * mount(2) with relative paths in `data` resolved against `cwd`. The working directory is
 * process-wide and libuv's thread pool resolves relative paths against it at any moment, so
 * the chdir happens in a short-lived forked child: mounts belong to the mount namespace, not
 * the process, so the parent sees the child's mount. The child makes only raw syscalls.
 */
static int mount_in_dir(const char *cwd, const char *source, const char *target,
                        const char *fstype, unsigned long flags, const char *data,
                        const char **failed_syscall) {
  *failed_syscall = "mount";
  child_report_t *report = mmap(NULL, sizeof *report, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (report == MAP_FAILED) {
    *failed_syscall = "mmap";
    return errno;
  }
  report->failed_syscall = 0;
  report->err = 0;
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    munmap(report, sizeof *report);
    *failed_syscall = "fork";
    return err;
  }
  if (pid == 0) {
    if (chdir(cwd) != 0) {
      report->failed_syscall = 1;
      report->err = errno;
      _exit(1);
    }
    if (mount(source, target, fstype, flags, data) != 0) {
      report->failed_syscall = 2;
      report->err = errno;
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      int err = errno;
      munmap(report, sizeof *report);
      *failed_syscall = "waitpid";
      return err;
    }
  }
  int err = 0;
  if (report->failed_syscall != 0) {
    err = report->err;
    if (report->failed_syscall == 1) *failed_syscall = "chdir";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    err = ECHILD;
  }
  munmap(report, sizeof *report);
  return err;
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 5, &a)) return NULL;
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL, *cwd = NULL;
  int64_t flags = 0;
  napi_value result = NULL;
  if (get_string(env, a.argv[0], true, "source", &source) &&
      get_string(env, a.argv[1], false, "target", &target) &&
      get_string(env, a.argv[2], true, "fstype", &fstype) &&
      get_int64(env, a.argv[3], "flags", &flags) &&
      get_string(env, a.argv[4], true, "data", &data) &&
      (a.argc < 6 || get_string(env, a.argv[5], true, "cwd", &cwd))) {
    if (cwd != NULL) {
      const char *failed = "mount";
      int err = mount_in_dir(cwd, source, target, fstype, (unsigned long)flags, data, &failed);
      if (err != 0)
        throw_errno(env, err, failed, strcmp(failed, "chdir") == 0 ? cwd : target);
      else
        result = undefined_value(env);
    } else if (mount(source, target, fstype, (unsigned long)flags, data) != 0) {
      throw_errno(env, errno, "mount", target);
    } else {
      result = undefined_value(env);
    }
  }
  free(source);
  free(target);
  free(fstype);
  free(data);
  free(cwd);
  return result;
}

static napi_value js_umount2(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 2, &a)) return NULL;
  char *target = NULL;
  int64_t flags = 0;
  napi_value result = NULL;
  if (get_string(env, a.argv[0], false, "target", &target) &&
      get_int64(env, a.argv[1], "flags", &flags)) {
    if (umount2(target, (int)flags) != 0)
      throw_errno(env, errno, "umount2", target);
    else
      result = undefined_value(env);
  }
  free(target);
  return result;
}

static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 2, &a)) return NULL;
  char *path = NULL, *name = NULL;
  napi_value result = NULL;
  if (!get_string(env, a.argv[0], false, "path", &path) ||
      !get_string(env, a.argv[1], false, "name", &name))
    goto out;
  /* Size, then read; the value may grow in between (ERANGE), so retry. */
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) {
        if (napi_get_null(env, &result) != napi_ok) throw_napi_failure(env);
      } else {
        throw_errno(env, errno, "lgetxattr", path);
      }
      goto out;
    }
    void *data = NULL;
    napi_value buffer;
    if (napi_create_buffer(env, (size_t)size, &data, &buffer) != napi_ok) {
      throw_napi_failure(env);
      goto out;
    }
    if (size == 0) {
      result = buffer;
      goto out;
    }
    ssize_t got = lgetxattr(path, name, data, (size_t)size);
    if (got < 0) {
      if (errno == ERANGE) continue;
      if (errno == ENODATA) {
        if (napi_get_null(env, &result) != napi_ok) throw_napi_failure(env);
      } else {
        throw_errno(env, errno, "lgetxattr", path);
      }
      goto out;
    }
    if (got == size) {
      result = buffer;
    } else {
      /* Shrank in between: hand back a copy of exactly what was read. */
      if (napi_create_buffer_copy(env, (size_t)got, data, NULL, &result) != napi_ok)
        throw_napi_failure(env);
    }
    goto out;
  }
out:
  free(path);
  free(name);
  return result;
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 4, &a)) return NULL;
  char *path = NULL, *name = NULL;
  int64_t flags = 0;
  napi_value result = NULL;
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (!get_string(env, a.argv[0], false, "path", &path) ||
      !get_string(env, a.argv[1], false, "name", &name))
    goto out;
  if (napi_is_buffer(env, a.argv[2], &is_buffer) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  if (!is_buffer) {
    throw_type(env, "value must be a Buffer");
    goto out;
  }
  if (napi_get_buffer_info(env, a.argv[2], &data, &length) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  if (!get_int64(env, a.argv[3], "flags", &flags)) goto out;
  if (lsetxattr(path, name, data, length, (int)flags) != 0)
    throw_errno(env, errno, "lsetxattr", path);
  else
    result = undefined_value(env);
out:
  free(path);
  free(name);
  return result;
}

static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 1, &a)) return NULL;
  char *path = NULL, *list = NULL;
  napi_value result = NULL;
  if (!get_string(env, a.argv[0], false, "path", &path)) goto out;
  ssize_t got;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) {
      throw_errno(env, errno, "llistxattr", path);
      goto out;
    }
    free(list);
    list = malloc((size_t)size + 1);
    if (list == NULL) {
      throw_errno(env, ENOMEM, "malloc", NULL);
      goto out;
    }
    got = size == 0 ? 0 : llistxattr(path, list, (size_t)size);
    if (got >= 0) break;
    if (errno != ERANGE) {
      throw_errno(env, errno, "llistxattr", path);
      goto out;
    }
  }
  napi_value array;
  if (napi_create_array(env, &array) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  /* The kernel returns NUL-separated names. */
  uint32_t index = 0;
  for (ssize_t start = 0; start < got;) {
    size_t len = strnlen(list + start, (size_t)(got - start));
    napi_value name;
    if (napi_create_string_utf8(env, list + start, len, &name) != napi_ok ||
        napi_set_element(env, array, index++, name) != napi_ok) {
      throw_napi_failure(env);
      goto out;
    }
    start += (ssize_t)len + 1;
  }
  result = array;
out:
  free(path);
  free(list);
  return result;
}

static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 2, &a)) return NULL;
  char *path = NULL, *name = NULL;
  napi_value result = NULL;
  if (get_string(env, a.argv[0], false, "path", &path) &&
      get_string(env, a.argv[1], false, "name", &name)) {
    if (lremovexattr(path, name) != 0)
      throw_errno(env, errno, "lremovexattr", path);
    else
      result = undefined_value(env);
  }
  free(path);
  free(name);
  return result;
}

static napi_value js_mknod(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 3, &a)) return NULL;
  char *path = NULL;
  int64_t mode = 0, dev = 0;
  napi_value result = NULL;
  if (get_string(env, a.argv[0], false, "path", &path) &&
      get_int64(env, a.argv[1], "mode", &mode) && get_int64(env, a.argv[2], "dev", &dev)) {
    if (mknod(path, (mode_t)mode, (dev_t)dev) != 0)
      throw_errno(env, errno, "mknod", path);
    else
      result = undefined_value(env);
  }
  free(path);
  return result;
}

static napi_value js_rename_exchange(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 2, &a)) return NULL;
  char *from = NULL, *to = NULL;
  napi_value result = NULL;
  if (get_string(env, a.argv[0], false, "a", &from) && get_string(env, a.argv[1], false, "b", &to)) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) != 0)
      throw_errno(env, errno, "renameat2", to);
    else
      result = undefined_value(env);
  }
  free(from);
  free(to);
  return result;
}

static napi_value js_try_lock_exclusive(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 1, &a)) return NULL;
  int64_t fd = 0;
  if (!get_int64(env, a.argv[0], "fd", &fd)) return NULL;
  int rc;
  do rc = flock((int)fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EWOULDBLOCK) return throw_errno(env, errno, "flock", NULL);
  napi_value result;
  CHECK(napi_get_boolean(env, rc == 0, &result));
  return result;
}

/* ---- spawn and waitpid ---- */

#define MAX_OUTPUTS 8

extern char **environ;

/* fd, moved above `floor` when it is lower: the child's dup2s onto 0..floor must not clobber
 * a descriptor they have yet to read. */
static int above(int fd, int floor) {
  if (fd < 0 || fd > floor) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor + 1);
  int err = errno;
  close(fd);
  errno = err;
  return moved;
}

/* A close-on-exec memfd holding `data`, positioned at its start; -1 with errno on failure. */
static int input_fd(const void *data, size_t length, int floor) {
  int fd = memfd_create("tsbuild-input", MFD_CLOEXEC);
  if (fd < 0) return -1;
  const char *p = data;
  for (size_t left = length; left > 0;) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      errno = err;
      return -1;
    }
    p += n;
    left -= (size_t)n;
  }
  if (lseek(fd, 0, SEEK_SET) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return above(fd, floor);
}

/*
 * child_process.spawn forks Node: the kernel copies the page tables of its whole heap, and the
 * child tears that copy down again when it execs, while the event loop waits. posix_spawn
 * shares the address space until the exec (vfork), whatever the heap's size. The child gets
 * what libuv gives its children: default signal dispositions, an empty signal mask, this
 * process's environment, and no descriptor of ours but 0..outputs (ours are all close-on-exec;
 * inherited ones are closed below).
 */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 3, &a)) return NULL;
  char *file = NULL;
  int64_t outputs = 0;
  bool is_buffer = false;
  void *input = NULL;
  size_t input_length = 0;
  napi_value result = NULL;
  int in = -1, pipes[MAX_OUTPUTS][2];
  for (int i = 0; i < MAX_OUTPUTS; i++) pipes[i][0] = pipes[i][1] = -1;
  bool actions_made = false, attr_made = false;
  pid_t pid = -1;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;

  if (!get_string(env, a.argv[0], false, "file", &file)) goto out;
  if (napi_is_buffer(env, a.argv[1], &is_buffer) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  if (!is_buffer) {
    throw_type(env, "input must be a Buffer");
    goto out;
  }
  if (napi_get_buffer_info(env, a.argv[1], &input, &input_length) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  if (!get_int64(env, a.argv[2], "outputs", &outputs)) goto out;
  if (outputs < 0 || outputs > MAX_OUTPUTS) {
    throw_type(env, "outputs must be between 0 and 8");
    goto out;
  }
  int floor = (int)outputs;

  in = input_fd(input, input_length, floor);
  if (in < 0) {
    throw_errno(env, errno, "memfd_create", NULL);
    goto out;
  }
  for (int i = 0; i < outputs; i++) {
    if (pipe2(pipes[i], O_CLOEXEC) < 0) {
      throw_errno(env, errno, "pipe2", NULL);
      goto out;
    }
    pipes[i][0] = above(pipes[i][0], floor);
    pipes[i][1] = above(pipes[i][1], floor);
    if (pipes[i][0] < 0 || pipes[i][1] < 0) {
      throw_errno(env, errno, "fcntl", NULL);
      goto out;
    }
  }

  int err = posix_spawn_file_actions_init(&actions);
  if (err == 0) {
    actions_made = true;
    err = posix_spawn_file_actions_adddup2(&actions, in, 0);
  }
  for (int i = 0; err == 0 && i < outputs; i++) err = posix_spawn_file_actions_adddup2(&actions, pipes[i][1], i + 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  /* Nor one this process inherited without close-on-exec (a descriptor the caller of tsbuild
   * left open): the child gets 0..outputs and nothing else. Elsewhere the runner closes them. */
  if (err == 0) err = posix_spawn_file_actions_addclosefrom_np(&actions, floor + 1);
#endif
  if (err == 0) {
    err = posix_spawnattr_init(&attr);
    if (err == 0) attr_made = true;
  }
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  if (err == 0) err = posix_spawnattr_setsigmask(&attr, &none);
  if (err == 0) err = posix_spawnattr_setsigdefault(&attr, &all);
  if (err == 0) err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (err != 0) {
    throw_errno(env, err, "posix_spawn", file);
    goto out;
  }

  char *argv[] = {file, NULL};
  err = posix_spawn(&pid, file, &actions, &attr, argv, environ);
  if (err != 0) {
    pid = -1;
    throw_errno(env, err, "posix_spawn", file);
    goto out;
  }

  napi_value obj, pid_value, fds;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_int32(env, pid, &pid_value) != napi_ok ||
      napi_set_named_property(env, obj, "pid", pid_value) != napi_ok ||
      napi_create_array_with_length(env, (size_t)outputs, &fds) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  for (int i = 0; i < outputs; i++) {
    napi_value fd;
    if (napi_create_int32(env, pipes[i][0], &fd) != napi_ok || napi_set_element(env, fds, (uint32_t)i, fd) != napi_ok) {
      throw_napi_failure(env);
      goto out;
    }
  }
  if (napi_set_named_property(env, obj, "fds", fds) != napi_ok) {
    throw_napi_failure(env);
    goto out;
  }
  for (int i = 0; i < outputs; i++) pipes[i][0] = -1; /* the caller's now */
  result = obj;

out:
  if (result == NULL && pid > 0) {
    /* Spawned, but the caller cannot hear of it: it must not outlive this call. */
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  if (actions_made) posix_spawn_file_actions_destroy(&actions);
  if (attr_made) posix_spawnattr_destroy(&attr);
  if (in >= 0) close(in);
  for (int i = 0; i < MAX_OUTPUTS; i++) {
    if (pipes[i][0] >= 0) close(pipes[i][0]);
    if (pipes[i][1] >= 0) close(pipes[i][1]);
  }
  free(file);
  return result;
}

typedef struct {
  pid_t pid;
  int status;
  int err;
  napi_deferred deferred;
  napi_async_work work;
} wait_t;

/* On a thread-pool thread: waitpid blocks there, not in the event loop. */
static void wait_execute(napi_env env, void *data) {
  (void)env;
  wait_t *w = data;
  while (waitpid(w->pid, &w->status, 0) < 0) {
    if (errno != EINTR) {
      w->err = errno;
      break;
    }
  }
}

/* Resolves w's promise with { code, signal } of w->status, or rejects it with w->err. */
static void wait_settle(napi_env env, wait_t *w) {
  napi_value value = NULL;
  if (w->err != 0) {
    value = errno_error(env, w->err, "waitpid", NULL);
    if (value != NULL) napi_reject_deferred(env, w->deferred, value);
  } else {
    napi_value code, sig;
    bool ok = napi_create_object(env, &value) == napi_ok;
    if (WIFEXITED(w->status)) {
      ok = ok && napi_create_int32(env, WEXITSTATUS(w->status), &code) == napi_ok && napi_get_null(env, &sig) == napi_ok;
    } else {
      ok = ok && napi_get_null(env, &code) == napi_ok && napi_create_int32(env, WTERMSIG(w->status), &sig) == napi_ok;
    }
    ok = ok && napi_set_named_property(env, value, "code", code) == napi_ok &&
         napi_set_named_property(env, value, "signal", sig) == napi_ok;
    if (ok) napi_resolve_deferred(env, w->deferred, value);
  }
}

static void wait_complete(napi_env env, napi_status status, void *data) {
  wait_t *w = data;
  if (status != napi_ok) {
    napi_value msg, value = NULL;
    if (napi_create_string_utf8(env, "waitpid was cancelled", NAPI_AUTO_LENGTH, &msg) == napi_ok)
      napi_create_error(env, NULL, msg, &value);
    if (value != NULL) napi_reject_deferred(env, w->deferred, value);
  } else {
    wait_settle(env, w);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

static napi_value js_waitpid(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, 1, &a)) return NULL;
  int64_t pid = 0;
  if (!get_int64(env, a.argv[0], "pid", &pid)) return NULL;
  if (pid <= 0) return throw_type(env, "pid must be positive");
  wait_t *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  w->pid = (pid_t)pid;
  napi_value promise, name;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) {
    free(w);
    throw_napi_failure(env);
    return NULL;
  }
  /* Mostly the child has ended already: then there is no need for the thread pool. */
  pid_t got;
  while ((got = waitpid(w->pid, &w->status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (got != 0) {
    if (got < 0) w->err = errno;
    wait_settle(env, w);
    free(w);
    return promise;
  }
  if (napi_create_string_utf8(env, "tsbuild:waitpid", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, wait_execute, wait_complete, w, &w->work) != napi_ok) {
    free(w);
    throw_napi_failure(env);
    return NULL;
  }
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    free(w);
    throw_napi_failure(env);
    return NULL;
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lremovexattr", NULL, js_lremovexattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
      {"renameExchange", NULL, js_rename_exchange, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tryLockExclusive", NULL, js_try_lock_exclusive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waitpid", NULL, js_waitpid, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  if (!init_ingest(env, exports)) return NULL;
  if (!tsbuild_scan_register(env, exports)) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
