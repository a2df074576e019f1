#define _GNU_SOURCE
#include "spec.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* Every member an object may have; anything else is refused, as is a missing member. */
static void check_members(const struct json *obj, const char *where, const char *const *allowed) {
  for (size_t i = 0; i < obj->count; i++) {
    int known = 0;
    for (const char *const *a = allowed; *a != NULL; a++) {
      if (strcmp(obj->keys[i], *a) == 0) known = 1;
    }
    if (!known) fatal("runner spec: unknown key \"%s\" in %s", obj->keys[i], where);
  }
  for (const char *const *a = allowed; *a != NULL; a++) {
    if (json_get(obj, *a) == NULL) fatal("runner spec: missing key \"%s\" in %s", *a, where);
  }
}

static const struct json *member(const struct json *obj, const char *key, enum json_type type,
                                 const char *where) {
  const struct json *v = json_get(obj, key);
  if (v == NULL) fatal("runner spec: missing key \"%s\" in %s", key, where);
  if (v->type != type) {
    fatal("runner spec: \"%s\" in %s must be %s, not %s", key, where, json_type_name(type),
          json_type_name(v->type));
  }
  return v;
}

static const char *string_member(const struct json *obj, const char *key, const char *where) {
  return member(obj, key, JSON_STRING, where)->string;
}

/* Absolute and clean: no empty, "." or ".." component, no trailing slash (but "/" itself). */
static int clean_absolute(const char *s) {
  if (s[0] != '/') return 0;
  if (s[1] == '\0') return 1;
  for (const char *c = s + 1;;) {
    const char *end = strchrnul(c, '/');
    size_t n = (size_t)(end - c);
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 0;
    if (*end == '\0') return 1;
    c = end + 1;
  }
}

static const char *absolute_path(const struct json *obj, const char *key, const char *where) {
  const char *s = string_member(obj, key, where);
  if (!clean_absolute(s)) fatal("runner spec: \"%s\" in %s must be a clean absolute path, not \"%s\"", key, where, s);
  return s;
}

/* A NULL-terminated copy of an array of strings. */
static const char **string_array(const struct json *obj, const char *key, const char *where) {
  const struct json *a = member(obj, key, JSON_ARRAY, where);
  const char **out = xmalloc((a->count + 1) * sizeof *out);
  for (size_t i = 0; i < a->count; i++) {
    if (a->items[i]->type != JSON_STRING) {
      fatal("runner spec: \"%s\"[%zu] in %s must be a string", key, i, where);
    }
    out[i] = a->items[i]->string;
  }
  out[a->count] = NULL;
  return out;
}

static double integer_member(const struct json *obj, const char *key, const char *where) {
  double n = member(obj, key, JSON_NUMBER, where)->number;
  if (n < 0 || n > 9007199254740992.0 || (double)(long long)n != n) {
    fatal("runner spec: \"%s\" in %s must be a non-negative integer", key, where);
  }
  return n;
}

static void overlay_from(const struct json *obj, const char *where, struct overlay_spec *out) {
  const struct json *lowers = member(obj, "lowers", JSON_ARRAY, where);
  out->lowers = string_array(obj, "lowers", where);
  out->lower_count = lowers->count;
  for (size_t i = 0; i < out->lower_count; i++) {
    if (!clean_absolute(out->lowers[i]) || strcmp(out->lowers[i], "/") == 0) {
      fatal("runner spec: lower dir \"%s\" in %s must be a clean absolute path", out->lowers[i], where);
    }
  }
  out->upper = absolute_path(obj, "upper", where);
  out->work = absolute_path(obj, "work", where);
}

static void mount_from(const struct json *m, size_t index, struct mount_spec *out) {
  char where[64];
  snprintf(where, sizeof where, "mounts[%zu]", index);
  if (m->type != JSON_OBJECT) fatal("runner spec: %s must be an object", where);
  const char *type = string_member(m, "type", where);
  memset(out, 0, sizeof *out);
  if (strcmp(type, "bind") == 0) {
    static const char *const keys[] = {"type", "target", "source", "readonly", NULL};
    check_members(m, where, keys);
    out->type = MOUNT_BIND;
    out->source = absolute_path(m, "source", where);
    out->readonly = member(m, "readonly", JSON_BOOL, where)->boolean;
  } else if (strcmp(type, "tmpfs") == 0) {
    static const char *const keys[] = {"type", "target", "size", NULL};
    check_members(m, where, keys);
    out->type = MOUNT_TMPFS;
    out->size = (unsigned long long)integer_member(m, "size", where);
  } else if (strcmp(type, "overlay") == 0) {
    static const char *const keys[] = {"type", "target", "lowers", "upper", "work", NULL};
    check_members(m, where, keys);
    out->type = MOUNT_OVERLAY;
    overlay_from(m, where, &out->overlay);
  } else {
    fatal("runner spec: %s has unknown type \"%s\" (bind, tmpfs or overlay)", where, type);
  }
  out->target = absolute_path(m, "target", where);
  if (strcmp(out->target, "/") == 0) fatal("runner spec: %s cannot be mounted on /", where);
}

void spec_parse(const char *text, size_t len, struct spec *out) {
  char err[256];
  struct json *root = json_parse(text, len, err, sizeof err);
  if (root == NULL) fatal("runner spec: %s", err);
  if (root->type != JSON_OBJECT) fatal("runner spec: must be a JSON object");

  /* The version first: a stale runner must say so, not complain about a new key. */
  const struct json *version = json_get(root, "version");
  if (version == NULL || version->type != JSON_NUMBER) {
    fatal("runner spec: no numeric \"version\"; this runner reads version %d", RUNNER_SPEC_VERSION);
  }
  if (version->number != RUNNER_SPEC_VERSION) {
    fatal("runner spec version %g does not match the runner's version %d: the native runner is stale, "
          "rebuild it with npm ci", version->number, RUNNER_SPEC_VERSION);
  }

  static const char *const keys[] = {"version", "args", "env", "cwd", "user", "hostname", "network",
                                     "hosts", "resolvConf", "security", "rootfs", "mounts", NULL};
  check_members(root, "the spec", keys);

  memset(out, 0, sizeof *out);
  out->args = string_array(root, "args", "the spec");
  if (out->args[0] == NULL) fatal("runner spec: \"args\" is empty");
  if (out->args[0][0] == '\0') fatal("runner spec: args[0] is empty");
  out->env = string_array(root, "env", "the spec");
  for (const char **e = out->env; *e != NULL; e++) {
    if (strchr(*e, '=') == NULL || **e == '=') fatal("runner spec: env entry \"%s\" is not NAME=VALUE", *e);
  }
  out->cwd = absolute_path(root, "cwd", "the spec");
  out->user = string_member(root, "user", "the spec");
  out->hostname = string_member(root, "hostname", "the spec");
  if (out->hostname[0] == '\0' || strlen(out->hostname) > 64) {
    fatal("runner spec: \"hostname\" must have 1 to 64 characters");
  }
  out->hosts = string_member(root, "hosts", "the spec");
  out->resolv_conf = string_member(root, "resolvConf", "the spec");

  const struct json *joined = json_get(root, "network");
  if (joined != NULL && joined->type == JSON_OBJECT) {
    static const char *const network_keys[] = {"join", NULL};
    check_members(joined, "network", network_keys);
    out->netns = absolute_path(joined, "join", "network");
  } else {
    const char *network = string_member(root, "network", "the spec");
    if (strcmp(network, "none") == 0) out->network_none = 1;
    else if (strcmp(network, "host") != 0) {
      fatal("runner spec: \"network\" must be \"none\", \"host\" or {\"join\": PATH}, not \"%s\"", network);
    }
  }

  const char *security = string_member(root, "security", "the spec");
  if (strcmp(security, "insecure") == 0) out->insecure = 1;
  else if (strcmp(security, "sandbox") != 0) fatal("runner spec: \"security\" must be \"sandbox\" or \"insecure\", not \"%s\"", security);

  const struct json *rootfs = member(root, "rootfs", JSON_OBJECT, "the spec");
  static const char *const rootfs_keys[] = {"lowers", "upper", "work", NULL};
  check_members(rootfs, "rootfs", rootfs_keys);
  overlay_from(rootfs, "rootfs", &out->rootfs);

  const struct json *mounts = member(root, "mounts", JSON_ARRAY, "the spec");
  out->mount_count = mounts->count;
  out->mounts = xmalloc(mounts->count * sizeof *out->mounts);
  for (size_t i = 0; i < mounts->count; i++) mount_from(mounts->items[i], i, &out->mounts[i]);
}
