/* What the addon's source files share. Each includes this after defining NAPI_VERSION. */
#ifndef TSBUILD_ADDON_H
#define TSBUILD_ADDON_H

#include <node_api.h>
#include <stdbool.h>

/*
 * An Error shaped like Node's own fs errors: message `CODE: description, syscall 'path'`,
 * err.code the errno name, err.errno the negative errno, err.syscall and (when not NULL)
 * err.path. NULL when it cannot be made (an exception is then pending).
 */
napi_value errno_error(napi_env env, int err, const char *syscall, const char *path);

#define MAX_ARGS 6

typedef struct {
  size_t argc;
  napi_value argv[MAX_ARGS];
} args_t;

/* The call's arguments; false (TypeError thrown) when fewer than `want` were passed. */
bool get_args(napi_env env, napi_callback_info info, size_t want, args_t *args);

/*
 * A JS string argument, or a Buffer's bytes (a path that is not UTF-8), as a malloc'd
 * NUL-terminated copy in *out (NULL for null/undefined when `nullable`); false with an
 * exception pending. `what` names it in errors. Values holding NUL are refused: the kernel
 * would truncate them, which for paths is a safety problem.
 */
bool get_string(napi_env env, napi_value value, bool nullable, const char *what, char **out);

/* After a failed N-API call: throws its error message unless an exception is already pending. */
void throw_napi_failure(napi_env env);

/* ingest.c: sha256Writer, writeAndHash, digestHex on `exports`. False with an exception pending. */
bool init_ingest(napi_env env, napi_value exports);

#endif
