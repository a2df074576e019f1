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
 *   sha256Writer, writeAndHash, digestHex          see ingest.c (asynchronous)
 *
 * Failures throw an Error shaped like Node's own fs errors: err.code is the errno name
 * ('ENOENT'), err.errno the negative errno, err.syscall and err.path are set.
 * The l* xattr calls never follow a final symlink.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include "addon.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "scan.h"

#define MAX_ARGS 6

/* Returns NULL from the calling function when an N-API call fails (an exception is pending). */
#define CHECK(call)                                                                            \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      throw_napi_failure(env);                                                                 \
      return NULL;                                                                             \
    }                                                                                          \
  } while (0)

static void throw_napi_failure(napi_env env) {
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

napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  if (code == NULL) code = "EUNKNOWN";
  char message[4352];
  if (path != NULL)
    snprintf(message, sizeof message, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  else
    snprintf(message, sizeof message, "%s: %s, %s", code, strerror(err), syscall);

  napi_value msg, error, errno_value;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok) {
    napi_throw_error(env, code, message);
    return NULL;
  }
  set_string_prop(env, error, "code", code);
  set_string_prop(env, error, "syscall", syscall);
  if (path != NULL) set_string_prop(env, error, "path", path);
  if (napi_create_int32(env, -err, &errno_value) == napi_ok)
    napi_set_named_property(env, error, "errno", errno_value);
  return error;
}

/* Throws `CODE: description, syscall 'path'` with code/errno/syscall/path properties. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = errno_error(env, err, syscall, path);
  if (error != NULL) napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

typedef struct {
  size_t argc;
  napi_value argv[MAX_ARGS];
} args_t;

static bool get_args(napi_env env, napi_callback_info info, size_t want, args_t *args) {
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

/*
 * Copies a JS string argument into a malloc'd NUL-terminated buffer. With `nullable`, null and
 * undefined give *out = NULL. Strings containing NUL are refused: the kernel would silently
 * truncate them, which for paths is a safety problem.
 */
static bool get_string(napi_env env, napi_value value, bool nullable, const char *what,
                       char **out) {
  napi_valuetype type;
  *out = NULL;
  if (napi_typeof(env, value, &type) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (nullable && (type == napi_null || type == napi_undefined)) return true;
  if (type != napi_string) {
    char message[128];
    snprintf(message, sizeof message, "%s must be a string", what);
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

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lremovexattr", NULL, js_lremovexattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  if (!init_ingest(env, exports)) return NULL;
  if (!tsbuild_scan_register(env, exports)) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
