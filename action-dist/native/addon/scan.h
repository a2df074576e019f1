/* scan.c: scanDir, one directory's sorted entries with their lstat fields (see scan.c). */
#ifndef TSBUILD_SCAN_H
#define TSBUILD_SCAN_H
#include <node_api.h>
#include <stdbool.h>

/* Adds scanDir to the addon's exports; false when an exception is pending. */
bool tsbuild_scan_register(napi_env env, napi_value exports);

#endif
