#define _GNU_SOURCE
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_DEPTH 32

struct parser {
  const char *s;
  size_t len;
  size_t pos;
  char *err;
  size_t errlen;
  int failed;
};

static void fail(struct parser *p, const char *what) {
  if (!p->failed) snprintf(p->err, p->errlen, "invalid JSON at byte %zu: %s", p->pos, what);
  p->failed = 1;
}

static void skip_ws(struct parser *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int literal(struct parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return 0;
  p->pos += n;
  return 1;
}

static struct json *node(enum json_type type) {
  struct json *v = xmalloc(sizeof *v);
  memset(v, 0, sizeof *v);
  v->type = type;
  return v;
}

static int hex4(struct parser *p, unsigned *out) {
  if (p->len - p->pos < 4) return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p->s[p->pos + (size_t)i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  p->pos += 4;
  *out = v;
  return 1;
}

static void put_utf8(struct buf *b, unsigned cp) {
  char out[4];
  size_t n;
  if (cp < 0x80) {
    out[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  buf_append(b, out, n);
}

/* Called with pos on the opening quote. Raw bytes >= 0x80 pass through unchecked: the spec
 * comes from our own JSON.stringify, and paths are bytes to the kernel anyway. */
static char *parse_string(struct parser *p) {
  struct buf b = {0};
  buf_append(&b, "", 0);
  p->pos++;
  for (;;) {
    if (p->pos >= p->len) {
      fail(p, "unterminated string");
      return NULL;
    }
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '"') {
      p->pos++;
      return b.data;
    }
    if (c < 0x20) {
      fail(p, "control character in string");
      return NULL;
    }
    if (c != '\\') {
      buf_putc(&b, (char)c);
      p->pos++;
      continue;
    }
    p->pos++;
    if (p->pos >= p->len) {
      fail(p, "unterminated escape");
      return NULL;
    }
    char e = p->s[p->pos++];
    switch (e) {
      case '"': buf_putc(&b, '"'); break;
      case '\\': buf_putc(&b, '\\'); break;
      case '/': buf_putc(&b, '/'); break;
      case 'b': buf_putc(&b, '\b'); break;
      case 'f': buf_putc(&b, '\f'); break;
      case 'n': buf_putc(&b, '\n'); break;
      case 'r': buf_putc(&b, '\r'); break;
      case 't': buf_putc(&b, '\t'); break;
      case 'u': {
        unsigned cp;
        if (!hex4(p, &cp)) {
          fail(p, "bad \\u escape");
          return NULL;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (!literal(p, "\\u") || !hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
            fail(p, "unpaired surrogate");
            return NULL;
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail(p, "unpaired surrogate");
          return NULL;
        }
        if (cp == 0) {
          fail(p, "NUL character in string");
          return NULL;
        }
        put_utf8(&b, cp);
        break;
      }
      default:
        fail(p, "bad escape");
        return NULL;
    }
  }
}

static struct json *parse_number(struct parser *p) {
  size_t start = p->pos;
  if (p->s[p->pos] == '-') p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '0') {
    p->pos++;
  } else if (p->pos < p->len && p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  } else {
    fail(p, "bad number");
    return NULL;
  }
  if (p->pos < p->len && p->s[p->pos] == '.') {
    p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == digits) {
      fail(p, "bad number");
      return NULL;
    }
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == digits) {
      fail(p, "bad number");
      return NULL;
    }
  }
  char tmp[64];
  size_t n = p->pos - start;
  if (n >= sizeof tmp) {
    fail(p, "number too long");
    return NULL;
  }
  memcpy(tmp, p->s + start, n);
  tmp[n] = '\0';
  struct json *v = node(JSON_NUMBER);
  v->number = strtod(tmp, NULL);
  return v;
}

static struct json *parse_value(struct parser *p, int depth);

static void push(struct json *v, char *key, struct json *item) {
  v->items = xrealloc(v->items, (v->count + 1) * sizeof *v->items);
  v->items[v->count] = item;
  if (v->type == JSON_OBJECT) {
    v->keys = xrealloc(v->keys, (v->count + 1) * sizeof *v->keys);
    v->keys[v->count] = key;
  }
  v->count++;
}

static struct json *parse_array(struct parser *p, int depth) {
  struct json *v = node(JSON_ARRAY);
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == ']') {
    p->pos++;
    return v;
  }
  for (;;) {
    struct json *item = parse_value(p, depth + 1);
    if (item == NULL) return NULL;
    push(v, NULL, item);
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    if (p->pos < p->len && p->s[p->pos] == ']') {
      p->pos++;
      return v;
    }
    fail(p, "expected ',' or ']'");
    return NULL;
  }
}

static struct json *parse_object(struct parser *p, int depth) {
  struct json *v = node(JSON_OBJECT);
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == '}') {
    p->pos++;
    return v;
  }
  for (;;) {
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"') {
      fail(p, "expected a member name");
      return NULL;
    }
    size_t key_pos = p->pos;
    char *key = parse_string(p);
    if (key == NULL) return NULL;
    if (json_get(v, key) != NULL) {
      p->pos = key_pos;
      fail(p, "duplicate member name");
      return NULL;
    }
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':') {
      fail(p, "expected ':'");
      return NULL;
    }
    p->pos++;
    struct json *item = parse_value(p, depth + 1);
    if (item == NULL) return NULL;
    push(v, key, item);
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    if (p->pos < p->len && p->s[p->pos] == '}') {
      p->pos++;
      return v;
    }
    fail(p, "expected ',' or '}'");
    return NULL;
  }
}

static struct json *parse_value(struct parser *p, int depth) {
  if (depth > MAX_DEPTH) {
    fail(p, "nested too deeply");
    return NULL;
  }
  skip_ws(p);
  if (p->pos >= p->len) {
    fail(p, "unexpected end of input");
    return NULL;
  }
  char c = p->s[p->pos];
  if (c == '{') return parse_object(p, depth);
  if (c == '[') return parse_array(p, depth);
  if (c == '"') {
    char *s = parse_string(p);
    if (s == NULL) return NULL;
    struct json *v = node(JSON_STRING);
    v->string = s;
    return v;
  }
  if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
  if (literal(p, "true")) {
    struct json *v = node(JSON_BOOL);
    v->boolean = 1;
    return v;
  }
  if (literal(p, "false")) return node(JSON_BOOL);
  if (literal(p, "null")) return node(JSON_NULL);
  fail(p, "unexpected character");
  return NULL;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen) {
  struct parser p = {.s = text, .len = len, .err = err, .errlen = errlen};
  struct json *v = parse_value(&p, 0);
  if (v == NULL) return NULL;
  skip_ws(&p);
  if (p.pos != p.len) {
    fail(&p, "trailing data after the value");
    return NULL;
  }
  return v;
}

const struct json *json_get(const struct json *object, const char *key) {
  for (size_t i = 0; i < object->count; i++) {
    if (strcmp(object->keys[i], key) == 0) return object->items[i];
  }
  return NULL;
}

const char *json_type_name(enum json_type type) {
  switch (type) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
  }
  return "?";
}
