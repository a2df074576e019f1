/* Small helpers shared by the runner's parts: fatal errors, allocation, string building. */
#ifndef TSBUILD_RUNNER_UTIL_H
#define TSBUILD_RUNNER_UTIL_H

#include <stddef.h>

/* How a fatal error leaves the current process; set once per role (runner, init, command). */
typedef void (*fatal_handler)(const char *message);
void set_fatal_handler(fatal_handler handler);

/* Formats the message and hands it to the role's handler, which never returns. */
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void *xmalloc(size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
  char *data;
  size_t len;
  size_t cap;
};
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);

/* Appends s as a JSON string literal (quotes included). */
void buf_json_string(struct buf *b, const char *s);

/* Writes all of n bytes, retrying on EINTR and short writes. Returns 0 or -1. */
int write_all(int fd, const void *data, size_t n);

#endif
