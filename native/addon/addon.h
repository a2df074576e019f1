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

/* After a failed N-API call: throws its error message unless an exception is already pending. */
void throw_napi_failure(napi_env env);

/* ingest.c: sha256Writer, writeAndHash, digestHex on `exports`. False with an exception pending. */
bool init_ingest(napi_env env, napi_value exports);

#endif
