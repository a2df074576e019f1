/* A strict JSON reader (RFC 8259) producing a small tree; enough for the runner's spec. */
#ifndef TSBUILD_RUNNER_JSON_H
#define TSBUILD_RUNNER_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
  enum json_type type;
  int boolean;
  double number;
  char *string; /* UTF-8, NUL-terminated; strings holding U+0000 are refused */
  size_t count; /* array items or object members */
  struct json **items;
  char **keys; /* object member names, parallel to items; duplicates are refused */
};

/* Parses exactly one JSON value filling the whole input (whitespace aside). On error returns
 * NULL and writes a message naming the byte offset into err. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* The member named key of an object, or NULL. */
const struct json *json_get(const struct json *object, const char *key);

const char *json_type_name(enum json_type type);

#endif
