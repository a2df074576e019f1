#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static fatal_handler current_handler;

void set_fatal_handler(fatal_handler handler) { current_handler = handler; }

void fatal(const char *fmt, ...) {
  char message[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (current_handler != NULL) current_handler(message);
  /* No handler yet: the runner's stderr is the only place left. */
  dprintf(2, "tsbuild-runner: %s\n", message);
  _exit(125);
}

void *xmalloc(size_t size) {
  void *p = malloc(size == 0 ? 1 : size);
  if (p == NULL) fatal("out of memory");
  return p;
}

void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size == 0 ? 1 : size);
  if (q == NULL) fatal("out of memory");
  return q;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (p == NULL) fatal("out of memory");
  return p;
}

char *xasprintf(const char *fmt, ...) {
  char *s;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) fatal("out of memory");
  return s;
}

void buf_append(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (b->len + n + 1 > cap) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_putc(struct buf *b, char c) { buf_append(b, &c, 1); }

void buf_json_string(struct buf *b, const char *s) {
  buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\') {
      buf_putc(b, '\\');
      buf_putc(b, (char)*p);
    } else if (*p < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      buf_puts(b, esc);
    } else {
      buf_putc(b, (char)*p);
    }
  }
  buf_putc(b, '"');
}

int write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}
